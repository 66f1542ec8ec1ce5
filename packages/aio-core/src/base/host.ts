/**
 * The adapter interface. aio-core holds every semantic rule; what differs between
 * runtimes (whether this thread may block, how to keep the process alive while an
 * asynchronous wait is pending, the clock, how to start threads and see them end) is
 * asked of the installed `Host`. Without an adapter, a neutral host built only from what every
 * runtime has (`Atomics`, `performance.now`, `setInterval`) is used, so a context works
 * with aio-core alone.
 *
 * The host is per thread: each thread's copy of aio-core has its own. Adapters install
 * theirs when they are imported.
 */
import { AioError, describeValue } from './errors.js';

/** A message channel between a thread and the thread that started it. */
export interface ThreadChannel {
  /** Sends a structured-cloneable message. */
  post(message: unknown): void;
  /** Sets the one receiver of incoming messages. */
  onMessage(receiver: (message: unknown) => void): void;
  /**
   * In a thread the host started: tells `listener` once, synchronously, when the thread is
   * about to end by itself (it exits, closes itself, or an uncaught error ends it), before
   * it is gone, with what it knows of the end. A parent sleeping in a blocking poll sees no
   * runtime event, so the thread records its own end in shared memory here. Absent where
   * the runtime tells a thread nothing of its own end.
   */
  onEnding?(listener: (exit: ThreadExit) => void): void;
}

/**
 * A runtime's Node-style `process`, seen through what tells a thread it is ending. Adapters pass the runtime's `process`.
 */
export interface NodeStyleProcess {
  once(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'uncaughtExceptionMonitor', listener: (error: unknown) => void): unknown;
  listenerCount(event: string): number;
}

/**
 * Calls `listener` when the thread `proc` belongs to is about to end by itself: its
 * 'exit' (process.exit(), or its event loop ran dry), or an uncaught exception that no
 * 'uncaughtException' listener catches. Worker thread.
 */
export function onProcessEnding(proc: NodeStyleProcess, listener: (exit: ThreadExit) => void): void {
  proc.once('exit', (code) => listener({ code }));
  proc.on('uncaughtExceptionMonitor', (error) => {
    if (proc.listenerCount('uncaughtException') === 0) listener({ error: asError(error) });
  });
}

/**
 * Makes `owner[method]` (a function that ends the thread, such as a worker scope's
 * `close` or a runtime's own exit function) tell `listener` the end that `exit(...args)` describes before it runs.
 * Does nothing where `owner` has no such function. Worker thread.
 */
export function tellBeforeEnding<A extends unknown[]>(owner: object, method: string, exit: (...args: A) => ThreadExit, listener: (exit: ThreadExit) => void): void {
  const target = owner as Record<string, unknown>;
  const end = target[method];
  if (typeof end !== 'function') return;
  target[method] = function (this: unknown, ...args: A) {
    listener(exit(...args));
    return end.apply(this, args);
  };
}

/** `listener`, told at most once however many signals report the same end. */
export function tellOnce(listener: (exit: ThreadExit) => void): (exit: ThreadExit) => void {
  let told = false;
  return (exit) => {
    if (told) return;
    told = true;
    listener(exit);
  };
}

/** `value` as an Error, for what a thread threw (any value at all). */
function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(`uncaught ${describeValue(value)}`);
}

/** How a thread ended, in words (the cause its calls fail with). */
export function describeExit(exit: ThreadExit): string {
  if (exit.error) {
    try {
      return `${exit.error.name}: ${exit.error.message}`;
    } catch {
      return `an uncaught ${describeValue(exit.error)}`;
    }
  }
  if (exit.code !== undefined) return `it exited with code ${exit.code}`;
  if (exit.closed) return 'it closed itself';
  if (exit.terminated) return 'it was terminated';
  return 'it ended without a word (killed, or out of memory)';
}

/**
 * How a thread ended, as far as its runtime tells. Every field is optional: a thread whose
 * end was only seen through its lifetime token (a Web Lock it held) reports none.
 */
export interface ThreadExit {
  /** The uncaught error that ended it. */
  error?: Error;
  /** Its exit code (the code the thread passed when it exited itself), where the runtime reports one. */
  code?: number;
  /** It called close() on its own global scope. */
  closed?: boolean;
  /** The parent's terminate() ended it. */
  terminated?: boolean;
}

/** What `startWorker()` returns: the runtime's own `Worker` object, seen through the members aio uses. */
export interface AioWorker {
  postMessage(message: unknown, transfer?: unknown[]): void;
  terminate(): void;
  addEventListener(type: string, listener: (event: never) => void, options?: unknown): void;
  removeEventListener(type: string, listener: (event: never) => void, options?: unknown): void;
  /** The runtime's worker number, where its Worker objects have one. */
  readonly threadId?: number;
}

/**
 * Constructs a web Worker for aio, passing `name` as the Worker's `name` option (it carries
 * the worker's lock id): `(name) => new Worker(new URL('./x.js', import.meta.url), { type:
 * 'module', name })`. Written out like this in a program's own code, bundlers (Vite,
 * webpack, Parcel) recognise the worker and bundle its script. It returns the Worker (typed
 * loosely, as runtimes type their Workers differently; checked when called). The thread that
 * starts the worker.
 */
export type WorkerFactory = (name: string) => object;

/** A thread started by the host, seen from its parent. */
export interface SpawnedThread extends ThreadChannel {
  /**
   * Sets the receiver told exactly once when the thread ends, however it ends (exit,
   * close(), uncaught error, terminate(), a hard kill), with what the runtime said of it.
   */
  onExit(receiver: (exit: ThreadExit) => void): void;
  /** Stops the thread and resolves when it is gone (join). */
  terminate(): Promise<void>;
  /** Lets the process exit while this thread still runs (where the runtime can). */
  unref?(): void;
  /** Undoes unref(). */
  ref?(): void;
}

/** What an adapter provides to aio-core. */
export interface Host {
  /** Short runtime name, for diagnostics ('node', 'bun', 'deno', 'browser', 'neutral'). */
  readonly runtime: string;
  /** True when this thread may call `Atomics.wait` (false on a browser main thread). */
  canBlock(): boolean;
  /** A monotonic clock in nanoseconds, as precise as the runtime allows. */
  nowNs(): number;
  /**
   * Keeps the process alive until the matching `unref()`. Calls nest; the process may exit
   * once every `ref()` is matched. No runtime does this for a pending `Atomics.waitAsync`.
   */
  ref(): void;
  /** Ends one `ref()`. */
  unref(): void;
  /**
   * True where `Atomics.waitAsync` timeouts fire late (Deno: 100 ms took about 200 ms), so
   * an asynchronous wait with a deadline also arms a host timer. Default false.
   */
  readonly waitAsyncTimeoutsLate?: boolean;
  /**
   * True where a web Worker fires 'close' once it is gone (with its exit code), so a
   * worker asked to end is recorded as ended only then. Default false.
   */
  readonly workerCloseEvent?: boolean;
  /**
   * Starts a thread running the module at `entry` (absent: this host cannot start
   * threads). `modules` are the user modules the thread will load; hosts that cannot
   * import them dynamically inside the thread load them statically at start.
   */
  spawnThread?(entry: URL, modules: string[]): SpawnedThread;
  /**
   * Starts an IOThread in the worker `make` constructs, whose script runs the IOThread
   * itself with the modules it imports (IOThread.create's `worker` option; absent: this
   * host starts IOThreads from module URLs only).
   */
  spawnMadeWorker?(make: WorkerFactory): SpawnedThread;
  /**
   * Told of every web Worker aio starts in this thread (IOThreads, `startWorker()`), just
   * constructed, before anything is posted to it; `ended` resolves when it ends.
   */
  workerStarted?(worker: AioWorker, ended: Promise<void>): void;
  /** The adapter's IOThread worker entry module. */
  readonly iothreadEntry?: URL;
  /** In a thread the host started: the channel to its parent. */
  parentChannel?(): ThreadChannel;
  /**
   * The file URL of the module at `path` given to IOThread.create (a relative path is taken
   * from the working directory), made by the runtime's own path-to-URL conversion, which
   * escapes what a URL would otherwise read as syntax (a space, '#', '?', '%'). Absent
   * where modules have no file paths (browsers): there a path resolves against the page.
   */
  moduleFileURL?(path: string): string;
  /**
   * The value of environment variable `name`, or undefined where the runtime has no
   * environment or the program may not read it. Never throws, never asks the user for a
   * permission. aio reads AIO_DEBUG through it.
   */
  env?(name: string): string | undefined;
}

/** `process.env[name]` where the runtime has one; undefined where reading it is refused. */
function processEnv(name: string): string | undefined {
  try {
    return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  } catch {
    return undefined;
  }
}

/**
 * A reference count that holds one long host interval while positive. Works on every
 * runtime (an interval keeps Node, Bun and Deno alive and is harmless in browsers).
 * Adapters share it rather than writing their own.
 *
 * @example
 * ```ts
 * import { KeepAlive } from 'aio-node';
 *
 * const alive = new KeepAlive();
 * alive.ref(); // something waits for a host event: hold the process open
 * // ... the event arrives:
 * alive.unref(); // at zero the process may exit
 * ```
 */
export class KeepAlive {
  #count = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Adds one reference. Home thread only. */
  ref(): void {
    if (this.#count++ > 0) return;
    // Where timers can be unreferenced (Node, Bun), one interval lives on and is only
    // switched: pollAsync refs and unrefs around every wait, and a new timer each time
    // costs more than the wait's own bookkeeping.
    const t = this.#timer as { ref?(): void } | undefined;
    if (t?.ref) t.ref();
    else this.#timer = setInterval(() => {}, 0x3fffffff);
  }

  /** Drops one reference; at zero the process may exit. Home thread only. */
  unref(): void {
    if (this.#count === 0) throw new AioError('ERR_AIO_UNBALANCED', 'KeepAlive.unref() without a matching ref()');
    if (--this.#count > 0) return;
    const t = this.#timer as { unref?(): void } | undefined;
    if (t?.unref) t.unref();
    else {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Current number of references. */
  get count(): number {
    return this.#count;
  }
}

/**
 * Probes whether `Atomics.wait` is allowed here. The spec checks the agent's [[CanBlock]]
 * before it compares the value, so a mismatching value answers without ever sleeping.
 */
export function probeCanBlock(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Builds the neutral host; adapters pass overrides for what their runtime does better. */
export function createHost(overrides: Partial<Host> & { runtime: string }): Host {
  const keepAlive = new KeepAlive();
  let canBlock: boolean | undefined;
  return {
    canBlock: () => (canBlock ??= probeCanBlock()),
    nowNs: () => performance.now() * 1e6,
    ref: () => keepAlive.ref(),
    unref: () => keepAlive.unref(),
    env: processEnv,
    ...overrides,
  };
}

let installed: Host = createHost({ runtime: 'neutral' });

/** The host of this thread. Any code in this thread. */
export function getHost(): Host {
  return installed;
}

/** Installs the host of this thread; adapters call it on import. This thread only. */
export function setHost(host: Host): void {
  installed = host;
}

/** Throws `ERR_AIO_CANNOT_BLOCK` when this thread may not block. */
export function assertCanBlock(what: string): void {
  if (!installed.canBlock()) {
    throw new AioError(
      'ERR_AIO_CANNOT_BLOCK',
      `${what} would block, and this thread may not block (a browser main thread): use the async form`,
    );
  }
}
