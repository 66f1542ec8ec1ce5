/** The public option and statistics types of IOThread (iothread.ts), and their defaults. */
import type { HistogramSummary } from '../base/histogram.js';
import type { AbortSignalLike } from '../locks/futex.js';
import type { WorkerFactory } from '../base/host.js';

/** Options of `IOThread.create()`. */
export interface IOThreadOptions {
  /** Thread and context name. */
  name?: string;
  /**
   * Module loaded in the thread before create() resolves. It may export `setup(ctx)`, run
   * before create() resolves, and `teardown(ctx)`, run when the thread stops, before its
   * context is closed (delete the bottom halves setup created there).
   */
  module?: string | URL;
  /**
   * 'dedicated' (default): the loop sleeps in Atomics.wait between events, for the lowest
   * latency; host I/O in that thread is not serviced while it sleeps. 'integrated': the
   * loop runs inside the thread's host event loop (promises, host timers, fetch, sockets
   * keep working).
   */
  mode?: 'dedicated' | 'integrated';
  /** More modules to load after `module`, each with its own optional setup/teardown. */
  modules?: (string | URL)[];
  /**
   * Constructs the thread's worker, instead of `module`/`modules` (aio-browser; the way to
   * start IOThreads from a bundled page): `(name) => new Worker(new URL('./my-thread.js',
   * import.meta.url), { type: 'module', name })`, written out like this so that the bundler
   * recognises the worker and bundles its script with what it imports. Pass `name` on: it
   * carries the id through which aio sees the worker end. The script starts the IOThread
   * with `serveIOThread(...modules)` (aio-browser), whose modules' `setup` runs before
   * create() resolves. A thread pool in that thread gets no modules from it.
   */
  worker?: WorkerFactory;
  /** Adaptive polling ceiling in ns (default 32768, as QEMU's IOThreads). */
  pollMaxNs?: number;
  /** Polling growth factor (0 = default 2). */
  pollGrow?: number;
  /** Polling shrink divisor (0 = drop to zero). */
  pollShrink?: number;
  /**
   * Hold the process open for as long as the thread runs, idle or not (default false: it
   * holds the process only while its loop has work: calls in flight, armed timers, handlers).
   */
  keepAlive?: boolean;
  /** Abandons the start: create() rejects with the signal's reason and the worker is ended. */
  signal?: AbortSignalLike;
  /**
   * How long loading the modules and running their setup() may take before create()
   * rejects with ERR_AIO_TIMEOUT and the worker is ended (default 30 s).
   */
  setupTimeoutMs?: number;
}

/** Default `setupTimeoutMs` of `IOThread.create()`. */
export const IOTHREAD_SETUP_TIMEOUT_MS = 30_000;

/** Default adaptive polling ceiling of an IOThread (QEMU's IOTHREAD_POLL_MAX_NS_DEFAULT). */
export const IOTHREAD_POLL_MAX_NS_DEFAULT = 32768;

/** What `IOThread.stats()` reports (piscina-style observability). Times are nanoseconds. */
export interface IOThreadStats {
  /** Calls that completed (with a result or an error). */
  calls: number;
  /** Share of the thread's time spent working (dispatching and busy-polling) rather than asleep, 0..1. */
  utilization: number;
  /** How long the called functions ran, in the thread. */
  runTime: HistogramSummary;
  /**
   * How long calls waited: from call() until the caller's poll took the reply from its
   * inbox, minus the run time (queueing, wake-up, transfer).
   */
  waitTime: HistogramSummary;
  /**
   * How many times a thread took this thread's context lock over from a thread that ended
   * holding it (the thread's loop included: it goes on after such a takeover).
   */
  lockOwnerDeaths: number;
}
