/** The options and statistics types of AioContext (context.ts). */

/** Options of `new AioContext()`. */
export interface AioContextOptions {
  /** Name used in errors and leak reports. */
  name?: string;
  /** Adaptive polling ceiling in ns; 0 (the default) disables polling. */
  pollMaxNs?: number;
  /** Factor by which polling time grows (0 = default 2). */
  pollGrow?: number;
  /** Divisor by which polling time shrinks (0 = drop to 0 at once). */
  pollShrink?: number;
  /**
   * Also measure where time goes (polling, sleeping, dispatching) for `stats()`; costs two
   * clock reads per poll. Counters are always kept. IOThreads turn it on.
   */
  timing?: boolean;
}

/** What `AioContext.stats()` reports. Times are nanoseconds (0 unless timing is on). */
export interface AioContextStats {
  /** Polls run. */
  polls: number;
  /** Bottom-half callbacks run (idle ones included). */
  bhRuns: number;
  /** Timer callbacks run. */
  timersFired: number;
  /** Handler callbacks run (the context's own notifier excluded). */
  handlerDispatches: number;
  /** Time spent busy-polling before sleeping. */
  pollingNs: number;
  /** Time spent asleep waiting for events. */
  sleepingNs: number;
  /** Time spent running callbacks. */
  dispatchingNs: number;
  /** Faults the context survived and reported (see `setErrorHandler`), whether or not a handler was set. */
  faults: number;
}

/** Options of `setEventNotifier()` beyond QEMU's arguments. */
export interface EventNotifierOptions {
  /**
   * Whether the handler serves external clients (requests from outside, such as a guest's
   * virtqueue kick). External handlers are not dispatched while `disableExternal()` is in
   * effect. Default true.
   */
  external?: boolean;
}
