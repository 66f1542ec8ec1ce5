/**
 * IOThread, the parent's side (QEMU's iothread.c): a thread whose only job is to run one
 * AioContext's loop. `create()` starts the thread through the host, waits until its
 * module is loaded and `setup(ctx)` ran, and resolves with an object whose `context`
 * reaches the thread's context through shared memory. `stop()` asks the loop to end with a
 * oneshot, as iothread_stop does, then joins the thread.
 *
 * An IOThread object belongs to the thread that created it: its methods are for that thread.
 */
import { failCallsTo } from './calls.js';
import { AioContext } from './context.js';
import { AioError, argRangeError, argTypeError, checkInteger, checkNumber, checkOptions, checkString } from './errors.js';
import { type SpawnedThread, getHost } from './host.js';
import { threadId } from './locks/thread-id.js';
import { CONTROL, type InboxRecord, type RemoteErrorData, errorFrom } from './messages.js';
import { sendRecord } from './outbox.js';
import { type ContextHandle, RemoteContext } from './remote-context.js';
import { wakeTable } from './shared-memory.js';

/** Options of `IOThread.create()`. */
export interface IOThreadOptions {
  /** Thread and context name. */
  name?: string;
  /** Module loaded in the thread before create() resolves; it may export `setup(ctx)`. */
  module?: string | URL;
  /**
   * 'dedicated' (default): the loop sleeps in Atomics.wait between events, for the lowest
   * latency; host I/O in that thread is not serviced while it sleeps. 'integrated': the
   * loop runs inside the thread's host event loop (promises, host timers, fetch, sockets
   * keep working).
   */
  mode?: 'dedicated' | 'integrated';
  /** Adaptive polling ceiling in ns (default 32768, as QEMU's IOThreads). */
  pollMaxNs?: number;
  /** Polling growth factor (0 = default 2). */
  pollGrow?: number;
  /** Polling shrink divisor (0 = drop to zero). */
  pollShrink?: number;
}

/** Default adaptive polling ceiling of an IOThread (QEMU's IOTHREAD_POLL_MAX_NS_DEFAULT). */
export const IOTHREAD_POLL_MAX_NS_DEFAULT = 32768;

/** The first message a new IOThread receives. @internal */
export interface IOThreadInit {
  kind: 'aio.init';
  table: SharedArrayBuffer;
  name: string;
  module: string | null;
  mode: 'dedicated' | 'integrated';
  pollMaxNs: number;
  pollGrow: number;
  pollShrink: number;
  parentThread: number;
}

/** Messages an IOThread sends its parent. @internal */
export type IOThreadMessage =
  | { kind: 'aio.ready'; handle: ContextHandle }
  | { kind: 'aio.failed'; error: RemoteErrorData }
  | { kind: 'aio.record'; record: InboxRecord }
  | { kind: 'aio.exited'; error?: RemoteErrorData }
  | { kind: 'aio.crashed'; error: RemoteErrorData };

let threadCount = 0;

/** A URL string for `specifier`: URLs as they are, paths against the host's base (cwd or page). */
function resolveModule(specifier: string | URL, base: string | undefined): string {
  const pageBase = (globalThis as { location?: { href: string } }).location?.href;
  try {
    return new URL(specifier, base ?? pageBase).href;
  } catch {
    throw argRangeError('options.module', 'a URL, or a path this host can resolve', specifier);
  }
}

/** A thread running one AioContext loop. Methods: the thread that created it. */
export class IOThread {
  /** The thread's name (also its context's name). */
  readonly name: string;
  /** The thread's context (iothread_get_aio_context), reachable from any thread via its handle. */
  readonly context: RemoteContext;
  readonly #thread: SpawnedThread;
  #state: 'running' | 'stopping' | 'stopped' | 'dead' = 'running';
  #exit: Promise<Error | null>;
  #stopPromise: Promise<void> | null = null;
  #exitError: RemoteErrorData | undefined;
  #crash: Error | null = null;

  private constructor(name: string, context: RemoteContext, thread: SpawnedThread, exit: Promise<Error | null>) {
    this.name = name;
    this.context = context;
    this.#thread = thread;
    this.#exit = exit;
    void exit.then((error) => this.#ended(error));
  }

  /**
   * Starts an IOThread and resolves once its module is loaded and `setup(ctx)` returned;
   * rejects with the module's error if loading or setup threw. Needs an adapter that can
   * start threads (aio-node, aio-bun, aio-deno, aio-browser).
   */
  static async create(options: IOThreadOptions = {}): Promise<IOThread> {
    checkOptions('options', options);
    const name = options.name ?? `iothread${++threadCount}`;
    checkString('options.name', name);
    if (options.module !== undefined && typeof options.module !== 'string' && !(options.module instanceof URL)) {
      throw argTypeError('options.module', 'a string or URL', options.module);
    }
    const mode = options.mode ?? 'dedicated';
    if (mode !== 'dedicated' && mode !== 'integrated') throw argRangeError('options.mode', "'dedicated' or 'integrated'", mode);
    const pollMaxNs = options.pollMaxNs ?? IOTHREAD_POLL_MAX_NS_DEFAULT;
    checkInteger('options.pollMaxNs', pollMaxNs, 0, Number.MAX_SAFE_INTEGER);
    const pollGrow = options.pollGrow ?? 0;
    const pollShrink = options.pollShrink ?? 0;
    checkNumber('options.pollGrow', pollGrow, 0);
    checkNumber('options.pollShrink', pollShrink, 0);
    const host = getHost();
    if (!host.spawnThread || !host.iothreadEntry) {
      throw new AioError('ERR_AIO_NO_HOST', `IOThread.create(): the '${host.runtime}' host cannot start threads; import aio-node, aio-bun, aio-deno or aio-browser`);
    }
    const module = options.module === undefined ? null : resolveModule(options.module, host.moduleBase?.());
    const table = wakeTable();
    const thread = host.spawnThread(host.iothreadEntry, module);
    let onReady!: (m: IOThreadMessage) => void;
    const first = new Promise<IOThreadMessage>((r) => (onReady = r));
    let self: IOThread | null = null;
    thread.onMessage((m) => {
      const msg = m as IOThreadMessage;
      if (!self) return onReady(msg);
      self.#receive(msg);
    });
    const exit = new Promise<Error | null>((resolve) => thread.onExit(resolve));
    const init: IOThreadInit = { kind: 'aio.init', table: table.sab, name, module, mode, pollMaxNs, pollGrow, pollShrink, parentThread: threadId() };
    thread.post(init);
    const outcome = await Promise.race([first, exit.then((error) => ({ kind: 'aio.died' as const, error }))]);
    if (outcome.kind === 'aio.failed') {
      await thread.terminate();
      throw errorFrom(outcome.error, `IOThread.create('${name}')`);
    }
    if (outcome.kind !== 'aio.ready') {
      await thread.terminate();
      const why = outcome.kind === 'aio.died' && outcome.error ? `: ${outcome.error.message}` : '';
      throw new AioError('ERR_AIO_THREAD_DIED', `IOThread '${name}' died while starting${why}`);
    }
    const context = new RemoteContext(outcome.handle, (record) => {
      thread.post({ kind: 'aio.record', record });
      // A dedicated loop only sees port messages when it yields to its host loop.
      sendRecord(context._target.table, context._target.slot, context._target.generation, [CONTROL, 'host'], true, null, 'IOThread');
    });
    self = new IOThread(name, context, thread, exit);
    return self;
  }

  #receive(msg: IOThreadMessage): void {
    if (msg.kind === 'aio.record') AioContext.current()._deliver(msg.record);
    else if (msg.kind === 'aio.exited') {
      this.#exitError = msg.error;
      void this.#thread.terminate();
    } else if (msg.kind === 'aio.crashed') {
      this.#crash = errorFrom(msg.error, `IOThread '${this.name}'`);
      void this.#thread.terminate();
    }
  }

  #ended(exitError: Error | null): void {
    const error = this.#crash ?? exitError;
    const stopped = !this.#crash && (this.#state === 'stopping' || this.#state === 'stopped');
    this.#state = stopped ? 'stopped' : 'dead';
    const t = this.context._target;
    failCallsTo(t.table, t.slot, () =>
      stopped
        ? new AioError('ERR_AIO_THREAD_STOPPED', `IOThread '${this.name}' stopped before replying`)
        : new AioError('ERR_AIO_THREAD_DIED', `IOThread '${this.name}' died${error ? `: ${error.message}` : ''}`, { cause: error }),
    );
  }

  /** 'running', 'stopping', 'stopped', or 'dead' (the thread crashed or exited on its own). */
  get state(): 'running' | 'stopping' | 'stopped' | 'dead' {
    return this.#state;
  }

  /**
   * Runs the function the thread registered as `name` in its context and resolves with the
   * result; rejects with the thrown error's message and stack, or with ERR_AIO_THREAD_DIED /
   * ERR_AIO_THREAD_STOPPED if the thread ends first.
   */
  call(name: string, ...args: unknown[]): Promise<unknown> {
    if (this.#state === 'dead') return Promise.reject(new AioError('ERR_AIO_THREAD_DIED', `IOThread '${this.name}' has died`));
    if (this.#state !== 'running') return Promise.reject(new AioError('ERR_AIO_THREAD_STOPPED', `IOThread '${this.name}' is stopped`));
    try {
      return this.context.call(name, ...args);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Stops the loop (a oneshot in the thread sets it to end, as iothread_stop) and joins the
   * thread. Resolves even if the thread had died; rejects if the thread's context leaked
   * bottom halves. Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopPromise ??= this.#stop();
    return this.#stopPromise;
  }

  async #stop(): Promise<void> {
    if (this.#state === 'running') {
      this.#state = 'stopping';
      const t = this.context._target;
      try {
        sendRecord(t.table, t.slot, t.generation, [CONTROL, 'stop'], true, null, 'IOThread.stop()');
      } catch {
        // The context is already gone: the thread is ending anyway.
      }
      const timer = new Promise<void>((r) => setTimeout(r, 5000));
      await Promise.race([this.#exit, timer]);
    }
    await this.#thread.terminate();
    await this.#exit;
    if (this.#exitError) throw errorFrom(this.#exitError, `IOThread '${this.name}' stop()`);
  }

  /** Same as stop(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
