/**
 * IOThread, the parent's side (QEMU's iothread.c): a thread whose only job is to run one
 * AioContext's loop. `create()` starts the thread through the host, waits until its
 * module is loaded and `setup(ctx)` ran, and resolves with an object whose `context`
 * reaches the thread's context through shared memory. `stop()` asks the loop to end with a
 * oneshot, as iothread_stop does, then joins the thread.
 *
 * Ends: however the thread ends (stop, exit, close, an uncaught error, terminate, a hard
 * kill), the host tells its parent once. The parent then records the thread as dead for
 * robust locks, gives back every context slot the thread still held with the cause as its
 * epitaph (so any handle of those contexts fails at once with it), and fails the calls
 * still waiting on it, after the replies the thread sent before it ended.
 *
 * Process lifetime: the thread holds the process open only while its loop has work that
 * should (it says so on every change: calls of its own in flight, armed timers, handlers,
 * async functions running) or `keepAlive` is set. The parent's own calls in flight hold
 * the process through the parent's context.
 *
 * An IOThread object belongs to the thread that created it: its methods are for that thread.
 */
import { type CallCallback, type Target, expectReply, failCallsTo, failReply, sendCallWith } from './calls.js';
import { AioContext } from '../loop/context.js';
import { AioError, argRangeError, argTypeError, checkFunction, checkInteger, checkNumber, checkOptions, checkString } from '../base/errors.js';
import { type Host, type SpawnedThread, type ThreadExit, describeExit, getHost } from '../base/host.js';
import { checkSignal } from '../locks/handle.js';
import { randomThreadId, threadId } from '../locks/thread-id.js';
import { CONTROL, type RemoteErrorData, errorFrom } from './messages.js';
import { type IOThreadInit, type IOThreadMessage, type ReadyData, iothreadEpitaph, iothreadMessageProblem } from './iothread-protocol.js';
import { IOTHREAD_POLL_MAX_NS_DEFAULT, IOTHREAD_SETUP_TIMEOUT_MS, type IOThreadOptions, type IOThreadStats } from './iothread-options.js';
import { buryThread } from './start-worker.js';
import { sendRecord } from './outbox.js';
import { intakeOf, recordsTakenNs } from './record-intake.js';
import { RemoteContextView } from './remote-context.js';
import type { AnyFunctions, CallArgs, CallResult, FunctionName, RemoteContext } from '../loop/services.js';
import { Histogram } from '../base/histogram.js';
import { Slot, wakeTable } from '../base/shared-memory.js';

let threadCount = 0;

/** How long stop() lets the loop end by itself before it terminates the thread. */
const STOP_GRACE_MS = 5000;

/** A lock-owner id for a new thread: random like every thread's, and not its parent's. */
function newThreadId(): number {
  for (;;) {
    const id = randomThreadId();
    if (id !== threadId()) return id;
  }
}

/** What ended a thread, in words, from what its runner and its host said. */
function causeOf(exit: ThreadExit, crash: Error | null): string {
  return describeExit(crash ? { ...exit, error: crash } : exit);
}

/**
 * A URL string for `specifier`: a URL as it is; a path (no scheme, or a one-letter one,
 * which is a drive) through the host's moduleFileURL, else against the page's URL.
 */
function resolveModule(specifier: string | URL, host: Host): string {
  try {
    if (typeof specifier !== 'string' || /^[a-z][a-z\d+.-]+:/i.test(specifier)) return new URL(specifier).href;
    if (host.moduleFileURL) return host.moduleFileURL(specifier);
    return new URL(specifier, (globalThis as { location?: { href: string } }).location?.href).href;
  } catch {
    throw argRangeError('options.module', 'a URL, or a path this host can resolve', specifier);
  }
}

/**
 * A thread running one AioContext loop. `F` types its calls: the functions its modules
 * register (see FunctionName). Methods: the thread that created it.
 *
 * @example
 * ```ts
 * import { IOThread } from 'aio-node';
 *
 * // io.js, the thread's module:  export const functions = defineFunctions({ square: (n: number) => n * n });
 * const io = await IOThread.create<{ square(n: number): number }>({
 *   name: 'io',
 *   module: new URL('./io.js', import.meta.url),
 * });
 * console.log(await io.call('square', 7)); // 49
 * await io.stop();
 * ```
 */
export class IOThread<F = AnyFunctions> {
  /** The thread's name (also its context's name). */
  readonly name: string;
  /** The thread's context (iothread_get_aio_context), reachable from any thread via its handle. */
  readonly context: RemoteContext<F>;
  /** Where records for the thread's context go. */
  readonly #target: Target;
  readonly #thread: SpawnedThread;
  /** The thread's lock-owner id (robust locks, and the context slots it holds). */
  readonly #owner: number;
  #state: 'running' | 'stopping' | 'stopped' | 'dead' = 'running';
  readonly #exit: Promise<ThreadExit>;
  #stopPromise: Promise<void> | null = null;
  #exitError: RemoteErrorData | undefined;
  #exitedCleanly = false;
  #crash: Error | null = null;
  /** Why the thread died, once it did. */
  #cause: string | null = null;
  readonly #keepAlive: boolean;
  /** What the thread last said: its loop has work that should hold the process. */
  #loopHolds: boolean;
  /** The owner of this thread (a pool) holds it while it runs a request. */
  #ownerHolds = false;
  readonly #runTime = new Histogram();
  readonly #waitTime = new Histogram();

  private constructor(
    name: string,
    context: RemoteContextView<F>,
    thread: SpawnedThread,
    owner: number,
    exit: Promise<ThreadExit>,
    keepAlive: boolean,
    hold: boolean,
  ) {
    this.name = name;
    this.context = context;
    this.#target = context._target;
    this.#thread = thread;
    this.#owner = owner;
    this.#exit = exit;
    this.#keepAlive = keepAlive;
    this.#loopHolds = hold;
    this.#updateHold();
  }

  /**
   * Starts an IOThread and resolves once its modules are loaded and their `setup(ctx)` returned;
   * rejects with the module's error if loading or setup threw, with ERR_AIO_TIMEOUT after
   * `setupTimeoutMs`, with the signal's reason when `signal` fires, or with
   * ERR_AIO_THREAD_DIED if the thread ends first; in each case the worker is ended and its
   * context slot given back. Needs an adapter that can start threads (aio-node, aio-bun,
   * aio-deno, aio-browser). `F` types its calls: the functions its modules register, as
   * an object type (`typeof import('./disk.js')` for a module that exports them under
   * their registered names, or the type `defineFunctions` returns).
   */
  static create<F = AnyFunctions>(options: IOThreadOptions = {}): Promise<IOThread<F>> {
    return new Promise((resolve, reject) => {
      IOThread.start(options, (err, thread) => (err ? reject(err) : resolve(thread as IOThread<F>)));
    });
  }

  /**
   * The callback form of create(): `done` runs once the thread is ready or failed, inside
   * a poll of the caller's current context, so it also works while that context is polled
   * with a blocking poll (the thread pool starts its workers this way). Throws at once for
   * bad options.
   */
  static start(options: IOThreadOptions, done: (err: Error | null, thread?: IOThread) => void): void {
    checkOptions('options', options);
    checkFunction('done', done);
    const name = options.name ?? `iothread${++threadCount}`;
    checkString('options.name', name);
    if (options.module !== undefined && typeof options.module !== 'string' && !(options.module instanceof URL)) {
      throw argTypeError('options.module', 'a string or URL', options.module);
    }
    if (options.modules !== undefined) {
      if (!Array.isArray(options.modules)) throw argTypeError('options.modules', 'an array of strings or URLs', options.modules);
      for (const m of options.modules) if (typeof m !== 'string' && !(m instanceof URL)) throw argTypeError('options.modules[]', 'a string or URL', m);
    }
    const mode = options.mode ?? 'dedicated';
    if (mode !== 'dedicated' && mode !== 'integrated') throw argRangeError('options.mode', "'dedicated' or 'integrated'", mode);
    const pollMaxNs = options.pollMaxNs ?? IOTHREAD_POLL_MAX_NS_DEFAULT;
    checkInteger('options.pollMaxNs', pollMaxNs, 0, Number.MAX_SAFE_INTEGER);
    const pollGrow = options.pollGrow ?? 0;
    const pollShrink = options.pollShrink ?? 0;
    checkNumber('options.pollGrow', pollGrow, 0);
    checkNumber('options.pollShrink', pollShrink, 0);
    const keepAlive = options.keepAlive ?? false;
    if (typeof keepAlive !== 'boolean') throw argTypeError('options.keepAlive', 'a boolean', keepAlive);
    const setupTimeoutMs = options.setupTimeoutMs ?? IOTHREAD_SETUP_TIMEOUT_MS;
    checkNumber('options.setupTimeoutMs', setupTimeoutMs, 0);
    const signal = options.signal;
    checkSignal('options.signal', signal);
    const make = options.worker;
    if (make !== undefined) {
      checkFunction('options.worker', make);
      if (options.module !== undefined || options.modules !== undefined) {
        throw argTypeError('options.module', 'undefined with options.worker (the worker script passes its modules to serveIOThread())', options.module ?? options.modules);
      }
    }
    const host = getHost();
    if (!host.spawnThread || !host.iothreadEntry) {
      throw new AioError('ERR_AIO_NO_HOST', `IOThread.create(): the '${host.runtime}' host cannot start threads; import aio-node, aio-bun, aio-deno or aio-browser`);
    }
    if (make !== undefined && !host.spawnMadeWorker) {
      throw new AioError('ERR_AIO_NO_HOST', `IOThread.create(): options.worker needs aio-browser; the '${host.runtime}' host starts IOThreads from options.module`);
    }
    const modules = [...(options.module === undefined ? [] : [options.module]), ...(options.modules ?? [])].map((m) => resolveModule(m, host));
    if (signal?.aborted) {
      done(signal.reason instanceof Error ? signal.reason : new AioError('ERR_AIO_CANCELLED', `IOThread.create('${name}') was aborted`, { cause: signal.reason }));
      return;
    }
    const table = wakeTable();
    const owner = newThreadId();
    const thread = make !== undefined && host.spawnMadeWorker ? host.spawnMadeWorker(make) : host.spawnThread(host.iothreadEntry, modules);
    // Until it is ready, the parent's wait for the ready reply holds the process.
    thread.unref?.();
    let self: IOThread | null = null;
    const exit = new Promise<ThreadExit>((resolve) => thread.onExit(resolve));
    let setupTimer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => fail(signal!.reason instanceof Error ? signal!.reason : new AioError('ERR_AIO_CANCELLED', `IOThread.create('${name}') was aborted`, { cause: signal!.reason }));
    const settled = () => {
      clearTimeout(setupTimer);
      signal?.removeEventListener('abort', onAbort);
    };
    // Readiness comes back as a reply record through shared memory, not as a port message:
    // the caller may be sleeping in a blocking poll, where no host event is delivered.
    const { id, replyTo } = expectReply(table, null, `IOThread.create('${name}')`, (err, ready) => {
      settled();
      if (err) {
        void thread.terminate();
        return done(err);
      }
      const { hold, ...where } = ready as ReadyData;
      const handle = { kind: 'aio.AioContext', table: table.sab, ...where } as const;
      let posted = 0;
      const context = new RemoteContextView(handle, (record) => {
        thread.post({ kind: 'aio.record', record });
        // A dedicated loop only sees port messages when it yields to its host loop; the
        // count tells it how many to wait for, since a message may arrive after the record.
        sendRecord(context._target, [CONTROL, 'port', ++posted]);
      });
      self = new IOThread(name, context, thread, owner, exit, keepAlive, hold);
      done(null, self);
    });
    const fail = (err: Error) => {
      settled();
      failReply(id, err);
      void thread.terminate();
    };
    setupTimer = setTimeout(
      () => fail(new AioError('ERR_AIO_TIMEOUT', `IOThread.create('${name}'): its modules' setup did not finish within ${setupTimeoutMs} ms`)),
      setupTimeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    thread.onMessage((m) => {
      if (self) self.#receive(m);
    });
    void exit.then((end) => {
      settled();
      if (self) return self.#ended(end);
      const cause = causeOf(end, null);
      buryThread(table, owner, iothreadEpitaph(name, cause));
      failReply(id, new AioError('ERR_AIO_THREAD_DIED', `IOThread '${name}' died while starting: ${cause}`, { cause: end.error }));
    });
    const init: IOThreadInit = {
      kind: 'aio.init',
      table: table.sab,
      name,
      modules,
      mode,
      pollMaxNs,
      pollGrow,
      pollShrink,
      parentThread: threadId(),
      thread: owner,
      keepAlive,
      ready: [id, replyTo._slot],
    };
    try {
      thread.post(init);
    } catch (err) {
      fail(err instanceof Error ? err : new AioError('ERR_AIO_THREAD_DIED', `IOThread.create('${name}'): the start message could not be sent`, { cause: err }));
    }
  }

  /**
   * A message from the thread. The thread runs code of its own, so nothing in the message
   * is trusted: a malformed one is dropped and reported to the current context, whose
   * records it would have carried.
   */
  #receive(m: unknown): void {
    const problem = iothreadMessageProblem(m);
    if (problem !== null) {
      AioContext.current()._badRecord(`dropped a malformed message from IOThread '${this.name}': ${problem}`);
      return;
    }
    const msg = m as IOThreadMessage;
    if (msg.kind === 'aio.record') intakeOf(AioContext.current()).deliver(msg.record);
    else if (msg.kind === 'aio.hold') {
      this.#loopHolds = msg.hold === true;
      this.#updateHold();
    } else if (msg.kind === 'aio.exited') {
      this.#exitedCleanly = true;
      this.#exitError = msg.error;
      void this.#thread.terminate();
    } else {
      this.#crash = errorFrom(msg.error, `IOThread '${this.name}'`);
      void this.#thread.terminate();
    }
  }

  /**
   * The cause the thread wrote for itself when it ended by itself (exit, close(), an
   * uncaught error): what calls through any handle fail with. Null while it runs.
   */
  #ownCause(): string | null {
    const t = this.#target;
    const epitaph = t.table.epitaph(t.slot, t.generation);
    if (epitaph === null) return null;
    const prefix = iothreadEpitaph(this.name, '');
    return epitaph.startsWith(prefix) ? epitaph.slice(prefix.length) : epitaph;
  }

  /** Sees an end the thread recorded itself before its exit event arrives (a call may fail with it first). */
  #seeOwnEnd(): void {
    if (this.#state !== 'running' && this.#state !== 'stopping') return;
    const cause = this.#ownCause();
    if (cause === null) return;
    this.#state = 'dead';
    this.#cause = cause;
  }

  #ended(exit: ThreadExit): void {
    // A stop() that had to terminate a loop that did not end in time still counts as a stop.
    const stopped = this.#exitedCleanly || (!this.#crash && this.#state === 'stopping' && exit.terminated === true);
    const cause = stopped ? 'it was stopped' : (this.#cause ?? this.#ownCause() ?? causeOf(exit, this.#crash));
    this.#state = stopped ? 'stopped' : 'dead';
    if (!stopped) this.#cause = cause;
    buryThread(this.#target.table, this.#owner, iothreadEpitaph(this.name, cause));
    const t = this.#target;
    const error = this.#crash ?? exit.error;
    failCallsTo(t.table, t.slot, () =>
      stopped
        ? new AioError('ERR_AIO_THREAD_STOPPED', `IOThread '${this.name}' stopped before running the call`)
        : new AioError('ERR_AIO_THREAD_DIED', `IOThread '${this.name}' died: ${cause}`, { cause: error }),
    );
  }

  #updateHold(): void {
    if (this.#state !== 'running' && this.#state !== 'stopping') return;
    if (this.#keepAlive || this.#loopHolds || this.#ownerHolds) this.#thread.ref?.();
    else this.#thread.unref?.();
  }

  /** Whether the owner of this thread (a pool) holds the process through it. @internal */
  _holdProcess(hold: boolean): void {
    this.#ownerHolds = hold;
    this.#updateHold();
  }

  /** 'running', 'stopping', 'stopped', or 'dead' (the thread crashed or exited on its own). */
  get state(): 'running' | 'stopping' | 'stopped' | 'dead' {
    this.#seeOwnEnd();
    return this.#state;
  }

  /** Why the thread died ('dead' state), in words; null otherwise. */
  get cause(): string | null {
    this.#seeOwnEnd();
    return this.#cause;
  }

  #endedError(): AioError {
    return this.#state === 'dead'
      ? new AioError('ERR_AIO_THREAD_DIED', `IOThread '${this.name}' died: ${this.#cause}`)
      : new AioError('ERR_AIO_THREAD_STOPPED', `IOThread '${this.name}' is ${this.#state}`);
  }

  /**
   * Runs the function the thread registered as `name` in its context and resolves with the
   * result; rejects with the thrown error's message and stack, or with ERR_AIO_THREAD_DIED /
   * ERR_AIO_THREAD_STOPPED if the thread ends first.
   *
   * Exactly once: an accepted call either resolves with its function's result (or rejects
   * with what the function threw), or rejects without the function having run, never
   * both and never neither. `stop()` runs every call sent before it and delivers its reply.
   * The one exception is a thread that dies (or a stop() that must terminate a stuck loop)
   * while the function runs: its call rejects with ERR_AIO_THREAD_DIED (or STOPPED), and
   * the function may have had effects.
   */
  call<K extends FunctionName<F>>(name: K, ...args: CallArgs<F, K>): Promise<CallResult<F, K>> {
    if (this.#state !== 'running') return Promise.reject(this.#endedError());
    return new Promise((resolve, reject) => this.#send(name, args, resolve as (value: unknown) => void, reject));
  }

  /** Call counts, utilization and run/wait-time histograms of this thread. Its creator's thread. */
  stats(): IOThreadStats {
    const t = this.#target;
    const { busyNs, sleepNs } = this.#state === 'running' ? t.table.times(t.slot) : { busyNs: 0, sleepNs: 0 };
    return {
      calls: this.#runTime.summary().count,
      utilization: busyNs + sleepNs > 0 ? busyNs / (busyNs + sleepNs) : 0,
      runTime: this.#runTime.summary(),
      waitTime: this.#waitTime.summary(),
      lockOwnerDeaths: Atomics.load(t.table.words, t.table.base(t.slot) + Slot.LockOwnerDeaths),
    };
  }

  /**
   * The callback form of call(): `done` runs in the caller's current context's poll, also
   * while that poll blocks. @internal
   */
  _callWith(name: string, args: unknown[], done: CallCallback): void {
    if (this.#state !== 'running') return done(this.#endedError());
    const sent = getHost().nowNs();
    try {
      sendCallWith(this.#target, name, args, (err, value, runNs) => {
        this.#recordTimes(sent, runNs);
        done(err, value, runNs);
      });
    } catch (err) {
      done(err as Error);
    }
  }

  /** call()'s sending: one callback per call, settling the promise itself. */
  #send(name: string, args: unknown[], resolve: (value: unknown) => void, reject: (err: unknown) => void): void {
    const sent = getHost().nowNs();
    try {
      sendCallWith(this.#target, name, args, (err, value, runNs) => {
        this.#recordTimes(sent, runNs);
        if (err) reject(err);
        else resolve(value);
      });
    } catch (err) {
      reject(err);
    }
  }

  /** Records the run and wait times of a call sent at `sent` (ns) that ran `runNs` (undefined: it did not run). */
  #recordTimes(sent: number, runNs: number | undefined): void {
    if (runNs === undefined) return;
    this.#runTime.record(runNs);
    // Until the reply was taken from the inbox: one clock read per pass, not per reply.
    this.#waitTime.record(recordsTakenNs() - sent - runNs);
  }

  /**
   * Stops the loop (a oneshot in the thread sets it to end, as iothread_stop) and joins the
   * thread. The loop first finishes every call sent before stop(), waits for the async
   * functions it started, and delivers their replies; a loop that does not end within 5 s
   * is terminated. Resolves even if the thread had died; rejects if the thread's context
   * leaked bottom halves. Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopPromise ??= this.#stop();
    return this.#stopPromise;
  }

  async #stop(): Promise<void> {
    if (this.#state === 'running') {
      this.#state = 'stopping';
      // Joining is work: the process waits for it.
      this.#thread.ref?.();
      const t = this.#target;
      // A context already gone (the thread buried itself) gets no record: its slot may be
      // another context's by now. The thread is ending anyway.
      if (this.context.alive) sendRecord(t, [CONTROL, 'stop']);
      // A loop that does not end within 5 s (a function stuck in a busy loop) is
      // terminated. The timer is cleared at once otherwise: it must not hold the process.
      let timeout: ReturnType<typeof setTimeout> | undefined;
      const timer = new Promise<void>((r) => (timeout = setTimeout(r, STOP_GRACE_MS)));
      await Promise.race([this.#exit, timer]);
      clearTimeout(timeout);
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
