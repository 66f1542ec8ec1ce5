/** The types of AioContext's options, statistics and event sources (context.ts). */

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
   * Longest spin for a reply before a poll sleeps, in ns, while calls made from this
   * thread await replies here (see `AioContext.setReplyPollMaxNs`); 0 turns it off.
   * Default 32768.
   */
  replyPollMaxNs?: number;
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

/** What a message source must offer (MessagePort, WebSocket, Worker, BroadcastChannel all do). */
export interface MessageSourceLike {
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  /** MessagePorts need start() when listened to with addEventListener. */
  start?(): void;
}

/** The default reader of a {@link ReadableStreamLike}. */
export interface ReadableStreamReaderLike<T> {
  read(): Promise<{ done: boolean; value?: T }>;
  releaseLock(): void;
  cancel(reason?: unknown): Promise<void>;
}

/**
 * What `setStreamHandler` reads: a web ReadableStream (Deno conns, fetch bodies, ...), or
 * any object with a `getReader()` giving a default reader. The overloads are
 * ReadableStream's own (byob, default, with options), so that with DOM or Node typings
 * the chunk type is inferred from the default reader rather than from the byob one.
 */
export interface ReadableStreamLike<T> {
  getReader(options: { mode: 'byob' }): unknown;
  getReader(): ReadableStreamReaderLike<T>;
  getReader(options?: unknown): unknown;
}
