/**
 * AioContext: QEMU's event-loop object (util/async.c, util/aio-posix.c). A context owns
 * bottom halves, timers and event-notifier handlers and dispatches them in `poll()`, in
 * QEMU's order: bottom halves, then handlers, then timers. It belongs to the JS thread
 * that created it (its home thread); other threads reach it through its handle.
 *
 * Progress rule (what `poll()` returns): true iff a non-idle BH ran, a handler other than
 * the context's own notifier was dispatched, or a timer fired. A notify alone is not
 * progress, so a blocking poll returns false only when someone called notify().
 *
 * Owns: one poll pass (prepare, sleep, dispatch) and the notify_me / notified protocol
 * around the sleep, the context's lifetime (slot, close), running inside the host loop
 * (attach), waiting (waitWhile), and fault reports. The parts live beside it: the BH list
 * and BH phase (bh-list.ts), handlers and adaptive polling (handler.ts), timers
 * (timer.ts), sleeping on the wake word (sleep.ts). Layers built on the loop plug in
 * through ContextExtensions (work from other threads, the thread pool, coroutine entry,
 * remote contexts), installed by the package entry; the loop imports none of them.
 */
import {
  BH_ONESHOT,
  BH_PENDING,
  BH_SCHEDULED,
  BottomHalf,
  type BhOwner,
} from './bh.js';
import { CLOCK_ORDER, type ClockType, onVirtualClockEnabled } from './clock.js';
import {
  AioError,
  BhLeakedError,
  argTypeError,
  checkFunction,
  checkInteger,
  checkNumber,
  checkOptions,
  checkString,
} from './errors.js';
import { type Handler, HandlerSet, NONE_READY, type PollParams, type ReadyScan } from './handler.js';
import { assertCanBlock, getHost } from './host.js';
import { yieldToHost } from './host-yield.js';
import { EventNotifier } from './notifier.js';
import { type MessageSourceLike, type ReadableStreamLike, setMessageHandler, setStreamHandler } from './message-source.js';
import { notifySlot } from './notify.js';
import { ContextLock } from './context-lock.js';
import { threadId } from './locks/thread-id.js';
import type { AbortSignalLike } from './locks/futex.js';
import type { RemoteContext } from './remote-context.js';
import { Slot, type WakeTable, wakeTable } from './shared-memory.js';
import type { Coroutine } from './coroutine/coroutine.js';
import type { ThreadPool } from './thread-pool.js';
import { BhList, type BhPhaseFeed } from './bh-list.js';
import { type AioErrorHandler, FaultReports } from './faults.js';
import { sleep, sleepAsync } from './sleep.js';
import { Timer, TimerList, checkTimerArgs } from './timer.js';
import { soonest } from './timeouts.js';

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

/** Idle BHs cap a blocking wait at this many ns (QEMU: 10 ms). */
const IDLE_BH_TIMEOUT_NS = 10_000_000;
/** How many busy passes an attached context runs before it yields to the host loop. */
const ATTACHED_BUSY_PASSES = 32;

let mainContext: AioContext | null = null;
let homeContext: AioContext | null = null;
const dispatching: AioContext[] = [];
let contextCount = 0;

/**
 * What another layer does in every poll of a context to take in work from other threads
 * (record-intake.ts: records in the inbox ring or delivered by message). The loop knows
 * only this. @internal
 */
export interface ContextIntake {
  /** Whether work waits now (a blocking poll then does not sleep). */
  pending(): boolean;
  /** The longest a blocking poll may sleep, in ns (-1: no limit). */
  maxSleepNs(): number;
  /** Runs at the start of every dispatch, before the BH phase. */
  beginDispatch(): void;
  /** Adds a oneshot BH per waiting item to the BH phase's slice (popped from its end: push the last first). */
  take(into: BottomHalf[]): void;
  /** The context is closing, already gone for senders: answers what it will never run. */
  close(): void;
}

/** The structured-cloneable form of an AioContext. */
export interface ContextHandle {
  readonly kind: 'aio.AioContext';
  readonly name: string;
  readonly table: SharedArrayBuffer;
  readonly slot: number;
  readonly generation: number;
}

/**
 * What the layers above the loop add to every context, so that the loop calls them
 * without importing them: the intake of work from other threads (record-intake.ts), the
 * thread pool (thread-pool.ts), coroutine entry (coroutine/schedule.ts), and contexts of
 * other threads reached through their handles (remote-context.ts). The package's entry
 * module (index.ts), which composes the layers, installs them. @internal
 */
export interface ContextExtensions {
  intake(ctx: AioContext): ContextIntake;
  threadPool(ctx: AioContext, modules: (string | URL)[]): ThreadPool;
  coEnter(ctx: AioContext, co: Coroutine<unknown>): void;
  coSchedule(ctx: AioContext, co: Coroutine<unknown>): void;
  remote(handle: ContextHandle): RemoteContext;
}

const extensions: Partial<ContextExtensions> = {};

/** Installs extensions of every context (see ContextExtensions). The package's entry module, once. @internal */
export function extendContexts(more: Partial<ContextExtensions>): void {
  Object.assign(extensions, more);
}

/** The extension `name`; its module is part of aio-core, so it is always installed. */
function extension<K extends keyof ContextExtensions>(name: K): ContextExtensions[K] {
  const ext = extensions[name];
  if (!ext) throw new Error(`aio-core: the context extension '${name}' is not installed (aio-core was not loaded through its entry module)`);
  return ext as ContextExtensions[K];
}


/** The state of one poll between its preparation and its dispatch. */
interface PollPass extends ReadyScan {
  progress: boolean;
  start: number;
  announced: boolean;
  /** With timing: when the sleep ended (it is also when dispatching starts) and how long it was. */
  wokeNs: number;
  sleptNs: number;
}

/**
 * An event loop. Construct it in the thread that will run it; all methods are for that
 * (home) thread unless they say otherwise. Other threads use `AioContext.from(ctx.handle)`.
 */
export class AioContext implements BhOwner {
  /** Name used in errors and leak reports. */
  readonly name: string;
  readonly #table: WakeTable;
  readonly #slot: number;
  readonly #generation: number;
  readonly #w: Int32Array;
  readonly #iNotifyMe: number;
  readonly #iNotified: number;
  readonly #iWake: number;
  readonly #iWaiters: number;
  readonly #lock: ContextLock;

  #closed = false;
  readonly #bhs: BhList;
  /** What the BH phase takes besides BHs: work from other threads, then fault reports. Made once: the phase is hot. */
  readonly #bhFeed: BhPhaseFeed = {
    feed: (slice) => {
      this.#intake.take(slice);
      this.#faults.take(this, slice);
    },
    bad: (problem) => this._badRecord(problem),
  };

  readonly #timers: Record<ClockType, TimerList>;
  /** The same lists in the order a poll runs them (CLOCK_ORDER). */
  readonly #timerLists: readonly TimerList[];
  readonly #unsubscribeVirtual: () => void;

  readonly #handlers: HandlerSet;

  /** Dispatch passes of this context under way in this thread (nested polls count). */
  #dispatchDepth = 0;
  #attached = false;
  /** The longest a blocking poll may sleep now, in ns (-1: no limit); see _setSleepCap. */
  #sleepCap: (() => number) | null = null;
  #handle: ContextHandle | null = null;
  #pendingReplies = 0;
  readonly #timing: boolean;
  /** The counters the BH list, the handler set and the fault reports do not keep. */
  readonly #stats: Omit<AioContextStats, 'bhRuns' | 'handlerDispatches' | 'pollingNs' | 'faults'> = { polls: 0, timersFired: 0, sleepingNs: 0, dispatchingNs: 0 };
  #pool: ThreadPool | null = null;
  #poolModules: (string | URL)[] = [];
  /** Work from other threads (see ContextIntake). */
  readonly #intake: ContextIntake;
  /** Work for the end of the next BH phase, once the work taken in it has run. */
  #afterBhPhase: (() => void)[] | null = null;
  readonly #faults = new FaultReports();

  constructor(options?: AioContextOptions) {
    checkOptions('options', options);
    const name = options?.name ?? `ctx${++contextCount}`;
    checkString('options.name', name);
    const maxNs = options?.pollMaxNs ?? 0;
    const grow = options?.pollGrow ?? 0;
    const shrink = options?.pollShrink ?? 0;
    checkInteger('options.pollMaxNs', maxNs, 0, Number.MAX_SAFE_INTEGER);
    checkNumber('options.pollGrow', grow, 0);
    checkNumber('options.pollShrink', shrink, 0);
    if (options?.timing !== undefined && typeof options.timing !== 'boolean') throw argTypeError('options.timing', 'a boolean', options.timing);
    this.#timing = options?.timing ?? false;
    this.name = name;
    this.#table = wakeTable();
    [this.#slot, this.#generation] = this.#table.claim(threadId());
    this.#w = this.#table.words;
    const b = this.#table.base(this.#slot);
    this.#iNotifyMe = b + Slot.NotifyMe;
    this.#iNotified = b + Slot.Notified;
    this.#iWake = b + Slot.Wake;
    this.#iWaiters = b + Slot.Waiters;
    this.#bhs = new BhList(this.#w, b + Slot.RemoteBhHead);
    this.#lock = new ContextLock(this.#table, this.#slot, name);
    this.#timers = {
      realtime: new TimerList(this, 'realtime'),
      virtual: new TimerList(this, 'virtual'),
      host: new TimerList(this, 'host'),
    };
    this.#timerLists = CLOCK_ORDER.map((clock) => this.#timers[clock]);
    this.#unsubscribeVirtual = onVirtualClockEnabled(() => this.notify());
    this.#intake = extension('intake')(this);
    // The context's own notifier: ready when a notify woke (or would wake) a sleeper.
    this.#handlers = new HandlerSet(
      {
        notifier: null,
        words: this.#w,
        index: this.#iWake,
        onRead: () => {
          Atomics.store(this.#w, this.#iWake, 0);
        },
        onPoll: () => Atomics.load(this.#w, this.#iNotified) !== 0,
        onPollReady: () => {},
        external: false,
        own: true,
        deleted: false,
        readReady: false,
        pollReady: false,
        pollNs: 0,
        inPollList: false,
        pollIdleUntil: 0,
      },
      { maxNs, grow, shrink },
    );
  }

  /**
   * The context dispatching now in this thread; else the thread's home context (an
   * IOThread's); else `main()` (qemu_get_current_aio_context). Any code in this thread.
   */
  static current(): AioContext {
    // Not dispatching[length - 1] on an empty stack: an out-of-bounds read is a slow
    // lookup of the property "-1" through the prototype chain.
    const depth = dispatching.length;
    if (depth > 0) return dispatching[depth - 1]!;
    return homeContext ?? AioContext.main();
  }

  /** This thread's main-loop context, created on first use (qemu_get_aio_context). */
  static main(): AioContext {
    if (!mainContext || mainContext.#closed) mainContext = new AioContext({ name: 'main' });
    return mainContext;
  }

  /**
   * Makes `ctx` the thread's home context (an IOThread's context), or clears it with null.
   * Called by the thread runner before its loop starts. This thread only.
   */
  static setHome(ctx: AioContext | null): void {
    if (ctx !== null && !(ctx instanceof AioContext)) throw argTypeError('ctx', 'an AioContext or null', ctx);
    homeContext = ctx;
  }

  /** Rebuilds a context handle received from another thread as a {@link RemoteContext}. Any thread. */
  static from(handle: ContextHandle): RemoteContext {
    return extension('remote')(handle);
  }

  /** Structured-cloneable handle; `AioContext.from(handle)` in another thread. */
  get handle(): ContextHandle {
    this.assertOpen('AioContext.handle');
    return (this.#handle ??= {
      kind: 'aio.AioContext',
      name: this.name,
      table: this.#table.sab,
      slot: this.#slot,
      generation: this.#generation,
    });
  }

  /** The wake table this context lives in. @internal */
  get _table(): WakeTable {
    return this.#table;
  }

  /** This context's slot in the wake table. @internal */
  get _slot(): number {
    return this.#slot;
  }

  // ---------------------------------------------------------------- coroutines

  /**
   * Restarts `co` here (aio_co_enter): schedules it if this is not the current context;
   * inside a coroutine, queues it to run when the current one yields or returns; else
   * enters it now. Home thread.
   */
  coEnter(co: Coroutine<unknown>): void {
    extension('coEnter')(this, co);
  }

  /**
   * Enters `co` in this context's next poll, after everything scheduled before it
   * (aio_co_schedule); scheduling it twice throws ERR_AIO_COROUTINE. Home thread.
   */
  coSchedule(co: Coroutine<unknown>): void {
    extension('coSchedule')(this, co);
  }

  /**
   * This context's thread pool (QEMU's aio_get_thread_pool), created on first use. Its
   * workers load the modules of this context's IOThread. Home thread.
   */
  get threadPool(): ThreadPool {
    this.assertOpen('AioContext.threadPool');
    return (this.#pool ??= extension('threadPool')(this, this.#poolModules));
  }

  /** The modules pool workers of this context load first (the IOThread's own). @internal */
  _setPoolModules(modules: string[]): void {
    this.#poolModules = modules;
  }

  /** Runs `fn` with this context as AioContext.current(), so replies it asks for land here. @internal */
  _run<T>(fn: () => T): T {
    dispatching.push(this);
    try {
      return fn();
    } finally {
      dispatching.pop();
    }
  }

  /**
   * Installs what a blocking poll asks before it sleeps: the longest it may sleep, in ns
   * (-1: no limit). The thread runner caps the sleep while its host loop is owed a turn,
   * so a wake-up in time is served at once and the turn is given only when idle. @internal
   */
  _setSleepCap(cap: (() => number) | null): void {
    this.#sleepCap = cap;
  }

  /** True while the context has work that should hold the process: timers, handlers, replies awaited. @internal */
  _hasLiveWork(): boolean {
    return this.#hasLiveWork();
  }

  /**
   * Counts calls whose reply will land here. While any is pending the context keeps the
   * process alive, and the thread's main context attaches itself to the host loop so the
   * reply is dispatched without the program polling. @internal
   */
  _expectReplies(delta: number): void {
    this.#pendingReplies += delta;
    if (delta > 0 && !this.#attached && this === mainContext) this.attach();
    if (this.#pendingReplies === 0 && this.#attached) this.notify(); // re-evaluate keep-alive
  }

  /**
   * Runs `fn` at the end of this context's next BH phase, after the work from other
   * threads that phase takes (what a thread sent before it ended is there by then).
   * Wakes the context. Dropped if the context closes first. This thread. @internal
   */
  _afterBhPhase(fn: () => void): void {
    if (this.#closed) return;
    (this.#afterBhPhase ??= []).push(fn);
    this.notify();
  }

  /**
   * Sets the handler told of faults this context survives, in its poll: a malformed record
   * it dropped (ERR_AIO_BAD_RECORD), and a oneshot it sent that failed in the target thread,
   * where nobody waits for it (no such function, or it threw: ERR_AIO_REQUEST_FAILED); null restores the default, which logs the context's
   * first fault with console.error and only counts the rest (`stats().faults`). A handler
   * that throws makes the poll throw, like a BH callback. Home thread.
   */
  setErrorHandler(handler: AioErrorHandler | null): void {
    if (handler !== null) checkFunction('handler', handler);
    this.#faults.setHandler(handler);
  }

  /**
   * Reports a fault the context survived: counted now, handed to the error handler in the
   * next BH phase (so a handler runs where callbacks run, and one that throws cannot lose
   * the records taken with it). Every fault goes this way, whatever its code. This thread.
   * @internal
   */
  _report(err: AioError): void {
    if (this.#closed) return;
    this.#faults.add(err);
    this.notify();
  }

  /** Reports a malformed record or message that was dropped; `problem` says what and why. This thread. @internal */
  _badRecord(problem: string): void {
    this._report(new AioError('ERR_AIO_BAD_RECORD', `AioContext '${this.name}': ${problem}`));
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws ERR_AIO_CLOSED when the context is closed. @internal */
  assertOpen(what: string): void {
    if (this.#closed) throw new AioError('ERR_AIO_CLOSED', `${what}: AioContext '${this.name}' is closed`);
  }

  /**
   * Wakes the context: a blocking poll returns (aio_notify). A notify alone is not
   * progress. Home thread; other threads use the remote handle's notify().
   */
  notify(): void {
    // Pairs with the notify_me increment in #prepare(); see notify.ts.
    Atomics.store(this.#w, this.#iNotified, 1);
    if (Atomics.load(this.#w, this.#iNotifyMe) !== 0) notifySlot(this.#table, this.#slot);
  }

  // ---------------------------------------------------------------- the context lock

  /**
   * Takes the context lock (aio_context_acquire), blocking; recursive. The context's own
   * loop (an IOThread's) holds it while dispatching and drops it while sleeping, so holding
   * it keeps the loop's callbacks from running. If a thread ended holding it, throws
   * OwnerDiedError and the caller holds it (once). Throws ERR_AIO_CANNOT_BLOCK where it
   * would wait on a thread that may not block, and ERR_AIO_LOCK_ORDER in debug mode when a
   * thread other than the main one already holds another context's lock. Any thread
   * (others through `AioContext.from(handle)`).
   */
  acquire(): void {
    this.#lock.acquire();
  }

  /** Releases one level of the context lock (aio_context_release); ERR_AIO_NOT_OWNER if not held. */
  release(): void {
    this.#lock.release();
  }

  /** Takes the context lock if that needs no wait; returns whether it did. */
  tryAcquire(): boolean {
    return this.#lock.tryAcquire();
  }

  /**
   * Takes the context lock without blocking the thread; `signal` abandons the wait. Rejects
   * with OwnerDiedError, the caller holding it, if a thread ended holding it.
   */
  acquireAsync(signal?: AbortSignalLike): Promise<void> {
    return this.#lock.acquireAsync(signal);
  }

  // ---------------------------------------------------------------- bottom halves

  /** Creates a bottom half (aio_bh_new). Home thread. */
  bh(cb: () => void, options?: { name?: string }): BottomHalf {
    checkFunction('cb', cb);
    checkOptions('options', options);
    if (options?.name !== undefined) checkString('options.name', options.name);
    this.assertOpen('AioContext.bh()');
    const bh = new BottomHalf(this, cb, options?.name ?? (cb.name || 'anonymous'));
    this.#bhs.add(bh);
    return bh;
  }

  /** Runs `cb` once in the next poll; no BH object to manage (aio_bh_schedule_oneshot). Home thread. */
  scheduleOneshot(cb: () => void, options?: { name?: string }): void {
    checkFunction('cb', cb);
    checkOptions('options', options);
    this.assertOpen('AioContext.scheduleOneshot()');
    const bh = new BottomHalf(this, cb, options?.name ?? (cb.name || 'oneshot'), BH_PENDING | BH_SCHEDULED | BH_ONESHOT);
    this.#bhs.add(bh);
    this.#bhs.enqueue(bh);
    this.notify();
  }

  /** @internal */
  _enqueueLocal(bh: BottomHalf): void {
    this.#bhs.enqueue(bh);
    // A BH scheduled while this context dispatches needs no wake-up when nobody sleeps on
    // it (notify_me 0; the dispatching pass withdrew its own): every poll looks at the
    // local list before it could sleep (#computeTimeout). Otherwise, as aio_notify, wake
    // the wait in progress (a pollAsync of this thread, asleep in the host loop).
    if (this.#dispatchDepth === 0 || Atomics.load(this.#w, this.#iNotifyMe) !== 0) this.notify();
  }

  /** @internal */
  _shareBh(bh: BottomHalf): { id: number; table: WakeTable; slot: number; generation: number } {
    return { id: this.#bhs.share(bh), table: this.#table, slot: this.#slot, generation: this.#generation };
  }

  /** The BH phase (aio_bh_poll), with the work of other threads and fault reports, then what waited for it. */
  #bhPoll(): boolean {
    let progress = this.#bhs.phase(this.#bhFeed);
    if (this.#afterBhPhase !== null) {
      const after = this.#afterBhPhase;
      this.#afterBhPhase = null;
      for (const fn of after) fn();
      progress = true;
    }
    return progress;
  }

  /** How long a blocking poll may sleep (aio_compute_timeout): 0 with work to do now, capped by idle BHs (10 ms), timers and the intake. */
  #computeTimeout(): number {
    const bhs = this.#bhs.readiness();
    if (bhs === 'now' || this.#faults.waiting || this.#intake.pending()) return 0;
    let timeout = bhs === 'idle' ? IDLE_BH_TIMEOUT_NS : -1;
    timeout = soonest(timeout, this.#intake.maxSleepNs());
    for (const clock of CLOCK_ORDER) timeout = soonest(timeout, this.#timers[clock].deadlineNs());
    return timeout;
  }

  // ---------------------------------------------------------------- timers

  /** Creates a timer on `clock` whose `mod()` takes units of `scale` ns (aio_timer_new). Home thread. */
  timer(clock: ClockType, scale: number, cb: () => void): Timer {
    checkTimerArgs(clock, scale, cb);
    this.assertOpen('AioContext.timer()');
    return new Timer(this, this.#timers[clock], scale, cb);
  }

  #runTimers(): boolean {
    let fired = 0;
    for (const list of this.#timerLists) fired += list.run();
    this.#stats.timersFired += fired;
    return fired > 0;
  }

  // ---------------------------------------------------------------- handlers

  /**
   * Registers `onRead` for `e` (aio_set_event_notifier); `onRead` null removes it. It runs
   * in the handler phase while `e` is set (level-triggered; it should `testAndClear()`).
   * With `onPoll` and `onPollReady`, adaptive polling calls `onPoll` while busy-waiting and
   * `onPollReady` when it reports work (without `onPollReady`, `onPoll` is ignored, as in
   * QEMU). Home thread.
   */
  setEventNotifier(
    e: EventNotifier,
    onRead: ((e: EventNotifier) => void) | null,
    onPoll?: (() => boolean) | null,
    onPollReady?: (() => void) | null,
    options?: EventNotifierOptions,
  ): void {
    if (!(e instanceof EventNotifier)) throw argTypeError('e', 'an EventNotifier', e);
    if (onRead !== null) checkFunction('onRead', onRead);
    if (onPoll != null) checkFunction('onPoll', onPoll);
    if (onPollReady != null) checkFunction('onPollReady', onPollReady);
    checkOptions('options', options);
    if (options?.external !== undefined && typeof options.external !== 'boolean') {
      throw argTypeError('options.external', 'a boolean', options.external);
    }
    this.assertOpen('AioContext.setEventNotifier()');
    const old = this.#handlers.of(e);
    if (onRead === null) {
      if (!old) return;
      this.#handlers.remove(old);
      e._link(0);
      this.notify();
      return;
    }
    if (!old) {
      if (e._table.id !== this.#table.id) {
        throw new AioError('ERR_AIO_FOREIGN_MEMORY', `AioContext '${this.name}': the notifier comes from another thread group's shared memory`);
      }
      if (!e._link(this.#slot + 1)) {
        throw new AioError('ERR_AIO_NOTIFIER_BUSY', `AioContext '${this.name}': the notifier is registered with another context`);
      }
    }
    const poll = onPoll && onPollReady ? onPoll : null;
    const h: Handler = {
      notifier: e,
      words: e._words,
      index: 0,
      onRead: () => onRead(e),
      onPoll: poll,
      onPollReady: poll ? onPollReady! : null,
      external: options?.external ?? true,
      own: false,
      deleted: false,
      readReady: false,
      pollReady: false,
      pollNs: 0,
      inPollList: false,
      pollIdleUntil: 0,
    };
    this.#handlers.add(h, old);
    this.notify();
  }

  /**
   * Delivers the 'message' events of `source` (a MessagePort, WebSocket, Worker...) to
   * `onMessage` in this context's handler phase, in arrival order; null removes it. They
   * are external clients unless `options.external` is false: held back while
   * `disableExternal()` is in effect. Needs a poll that lets host events in (pollAsync,
   * attach(), an integrated IOThread). Home thread.
   */
  setMessageHandler(source: MessageSourceLike, onMessage: ((data: unknown) => void) | null, options?: EventNotifierOptions): void {
    this.assertOpen('AioContext.setMessageHandler()');
    setMessageHandler(this, source, onMessage, options);
  }

  /**
   * Delivers the chunks of a web `ReadableStream` (a Deno connection's `readable`, a fetch
   * body, a child process's output) to `onChunk` in this context's handler phase, in order,
   * then `onChunk(null)` at its end; null stops reading. External clients by default.
   * Home thread.
   */
  setStreamHandler<T>(stream: ReadableStreamLike<T>, onChunk: ((chunk: T | null) => void) | null, options?: EventNotifierOptions): void {
    this.assertOpen('AioContext.setStreamHandler()');
    setStreamHandler(this, stream, onChunk, options);
  }

  /**
   * Sets adaptive polling (aio_context_set_poll_params): busy-wait up to `maxNs` before
   * sleeping, growing by `grow` (0 = 2) and shrinking by `shrink` (0 = to zero). `maxNs` 0
   * disables polling. Resets every handler's polling time. Home thread.
   */
  setPollParams(p: { maxNs: number; grow?: number; shrink?: number }): void {
    checkOptions('p', p);
    if (p === undefined) throw argTypeError('p', 'an object', p);
    checkInteger('p.maxNs', p.maxNs, 0, Number.MAX_SAFE_INTEGER);
    const grow = p.grow ?? 0;
    const shrink = p.shrink ?? 0;
    checkNumber('p.grow', grow, 0);
    checkNumber('p.shrink', shrink, 0);
    this.assertOpen('AioContext.setPollParams()');
    this.#handlers.setParams(p.maxNs, grow, shrink);
    this.notify();
  }

  /** Current polling parameters. Home thread. */
  get pollParams(): Readonly<PollParams> {
    return { ...this.#handlers.params };
  }

  // ---------------------------------------------------------------- external clients

  /** Stops dispatching external handlers until the matching enableExternal(); nests (aio_disable_clients). Home thread. */
  disableExternal(): void {
    this.assertOpen('AioContext.disableExternal()');
    this.#handlers.disableExternal();
  }

  /** Ends one disableExternal(); at zero, pending external events are dispatched again. Home thread. */
  enableExternal(): void {
    if (!this.#handlers.externalDisabled) {
      throw new AioError('ERR_AIO_UNBALANCED', `AioContext '${this.name}': enableExternal() without a matching disableExternal()`);
    }
    if (this.#handlers.enableExternal()) this.notify();
  }

  /** True while external clients are disabled. Home thread. */
  get externalDisabled(): boolean {
    return this.#handlers.externalDisabled;
  }

  // ---------------------------------------------------------------- polling

  #prepare(blocking: boolean): PollPass {
    const pass: PollPass = {
      timeout: blocking ? this.#computeTimeout() : 0,
      ready: NONE_READY,
      progress: false,
      start: this.#handlers.params.maxNs > 0 ? getHost().nowNs() : 0,
      announced: false,
      wokeNs: 0,
      sleptNs: 0,
    };
    pass.progress = this.#handlers.tryPollMode(pass);
    if (pass.timeout !== 0) {
      // Announce the sleep before looking for work; pairs with the notified store in notify().
      Atomics.add(this.#w, this.#iNotifyMe, 2);
      pass.announced = true;
      if (Atomics.load(this.#w, this.#iNotified) !== 0) pass.timeout = 0;
    }
    this.#handlers.collectReady(pass);
    if (pass.ready.length > 0) pass.timeout = 0;
    return pass;
  }

  #dispatch(pass: PollPass): boolean {
    if (pass.announced) Atomics.sub(this.#w, this.#iNotifyMe, 2);
    // aio_notify_accept: clear before looking at BHs, so a later notify is not lost. The
    // load first spares the costlier sequentially consistent store when nothing notified.
    if (Atomics.load(this.#w, this.#iNotified) !== 0) Atomics.store(this.#w, this.#iNotified, 0);
    const blockNs = pass.start > 0 ? getHost().nowNs() - pass.start : 0;
    this.#intake.beginDispatch();
    this.#stats.polls++;
    const t0 = this.#timing ? pass.wokeNs || getHost().nowNs() : 0;
    dispatching.push(this);
    this.#dispatchDepth++;
    try {
      let progress = pass.progress;
      if (this.#bhPoll()) progress = true;
      if (pass.ready !== NONE_READY && this.#handlers.dispatchReady(pass.ready, blockNs)) progress = true;
      if (this.#runTimers()) progress = true;
      return progress;
    } finally {
      this.#dispatchDepth--;
      dispatching.pop();
      if (this.#timing) {
        if (pass.sleptNs > 0) this.#addTime('sleepingNs', pass.sleptNs);
        this.#addTime('dispatchingNs', getHost().nowNs() - t0);
      }
    }
  }

  #woke(pass: PollPass, sleptSince: number): void {
    pass.wokeNs = getHost().nowNs();
    pass.sleptNs = pass.wokeNs - sleptSince;
  }

  /** Adds to a time counter and publishes busy/sleep totals in shared memory (for IOThread utilization). */
  #addTime(kind: 'dispatchingNs' | 'sleepingNs', ns: number): void {
    this.#stats[kind] += ns;
    const b = (this.#table.base(this.#slot) + (kind === 'sleepingNs' ? Slot.SleepNs : Slot.BusyNs)) * 4;
    this.#table.view.setFloat64(b, kind === 'sleepingNs' ? this.#stats.sleepingNs : this.#stats.dispatchingNs + this.#handlers.pollingNs, true);
  }

  /**
   * Counters of this context's work, and with the `timing` option where its time went.
   * Home thread.
   */
  stats(): AioContextStats {
    return { ...this.#stats, bhRuns: this.#bhs.runs, handlerDispatches: this.#handlers.dispatches, pollingNs: this.#handlers.pollingNs, faults: this.#faults.count };
  }

  /**
   * Runs one iteration of the loop (aio_poll): bottom halves, then ready handlers, then
   * due timers. With `blocking`, first sleeps (Atomics.wait) until there is work, a notify,
   * or the next timer deadline. Returns progress (see the file comment). Throws
   * ERR_AIO_CANNOT_BLOCK for a blocking poll on a thread that may not block (use
   * pollAsync there). Nested calls from callbacks are allowed. Home thread.
   */
  poll(blocking: boolean): boolean {
    if (typeof blocking !== 'boolean') throw argTypeError('blocking', 'a boolean', blocking);
    this.assertOpen('AioContext.poll()');
    if (blocking) assertCanBlock('AioContext.poll(true)');
    const pass = this.#prepare(blocking);
    if (pass.timeout !== 0 && this.#sleepCap !== null) {
      const cap = this.#sleepCap();
      if (cap >= 0 && (pass.timeout < 0 || pass.timeout > cap)) pass.timeout = cap;
    }
    if (pass.timeout !== 0) {
      const t0 = this.#timing ? getHost().nowNs() : 0;
      // Others may take the context while it sleeps: it holds no lock there.
      const depth = this.#lock.drop();
      sleep(this.#w, this.#iWake, pass.timeout);
      this.#lock.retake(depth);
      // Recorded after the dispatch: the woken thread's first job is to answer.
      if (this.#timing) this.#woke(pass, t0);
      this.#handlers.collectReady(pass);
    }
    return this.#dispatch(pass);
  }

  /**
   * A blocking poll that never blocks the thread: it waits with Atomics.waitAsync (and a
   * host timer for the deadline) and holds the process alive meanwhile. Home thread.
   */
  async pollAsync(): Promise<boolean> {
    this.assertOpen('AioContext.pollAsync()');
    return this.#pollAsync(true);
  }

  /** `forAttach`: the attached loop's poll, which must not dispatch once detach() was called. */
  async #pollAsync(keepAlive: boolean, forAttach = false): Promise<boolean> {
    const pass = this.#prepare(true);
    if (pass.timeout !== 0) {
      const t0 = this.#timing ? getHost().nowNs() : 0;
      const depth = this.#lock.drop();
      await sleepAsync(this.#w, this.#iWake, pass.timeout, keepAlive);
      if (this.#closed) return false;
      await this.#lock.retakeAsync(depth);
      if (forAttach && !this.#attached) {
        // Detached while asleep: withdraw the announced sleep, leave the work to the next poller.
        if (pass.announced) Atomics.sub(this.#w, this.#iNotifyMe, 2);
        return false;
      }
      if (this.#timing) this.#woke(pass, t0);
      this.#handlers.collectReady(pass);
    }
    return this.#dispatch(pass);
  }

  /**
   * Runs the context inside the host event loop (like attaching QEMU's GSource): it polls
   * with pollAsync whenever there is work. It keeps the process alive only while it has
   * pending timers or registered handlers. Home thread.
   */
  attach(): void {
    this.assertOpen('AioContext.attach()');
    if (this.#attached) return;
    this.#attached = true;
    void this.#runAttached();
  }

  /** Stops running inside the host loop. Home thread. */
  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.notify();
  }

  /** True while attached. */
  get attached(): boolean {
    return this.#attached;
  }

  async #runAttached(): Promise<void> {
    let busy = 0;
    while (this.#attached && !this.#closed) {
      try {
        const progress = await this.#pollAsync(this.#hasLiveWork(), true);
        busy = progress ? busy + 1 : 0;
      } catch (err) {
        // Like an exception in a host timer callback: report it, keep the loop running.
        queueMicrotask(() => {
          throw err;
        });
      }
      if (busy >= ATTACHED_BUSY_PASSES) {
        busy = 0;
        await yieldToHost();
      }
    }
  }

  #hasLiveWork(): boolean {
    if (this.#handlers.hasUserHandlers || this.#pendingReplies > 0) return true;
    for (const clock of CLOCK_ORDER) if (this.#timers[clock].size > 0) return true;
    return false;
  }

  /**
   * Polls (blocking) while `cond()` is true (AIO_WAIT_WHILE); returns true if it polled.
   * Whoever makes `cond` false from another thread must wake this context (a BH, a
   * notify, or `aioWaitKick()` for the main context). Home thread.
   */
  waitWhile(cond: () => boolean): boolean {
    checkFunction('cond', cond);
    this.assertOpen('AioContext.waitWhile()');
    if (cond()) assertCanBlock('AioContext.waitWhile()');
    Atomics.add(this.#w, this.#iWaiters, 1);
    try {
      let waited = false;
      while (cond()) {
        this.poll(true);
        waited = true;
      }
      return waited;
    } finally {
      Atomics.sub(this.#w, this.#iWaiters, 1);
    }
  }

  /** The asynchronous form of waitWhile(), using pollAsync. Home thread. */
  async waitWhileAsync(cond: () => boolean): Promise<boolean> {
    checkFunction('cond', cond);
    this.assertOpen('AioContext.waitWhileAsync()');
    Atomics.add(this.#w, this.#iWaiters, 1);
    try {
      let waited = false;
      while (cond()) {
        await this.pollAsync();
        waited = true;
      }
      return waited;
    } finally {
      Atomics.sub(this.#w, this.#iWaiters, 1);
    }
  }

  /** Schedules an empty oneshot if a waitWhile() caller sleeps here (aio_wait_kick). @internal */
  _kick(): void {
    if (Atomics.load(this.#w, this.#iWaiters) > 0) this.scheduleOneshot(() => {}, { name: 'aio_wait_kick' });
  }

  // ---------------------------------------------------------------- lifetime

  /**
   * Closes the context (aio_context_unref's finalize). Throws ERR_AIO_BH_LEAKED naming
   * every BH not deleted, or ERR_AIO_TIMERS_PENDING; after either error the context is
   * still open and usable. Removes remaining handlers. Home thread.
   */
  close(): void {
    if (this.#closed) return;
    const leaked = this.#bhs.leaked();
    if (leaked.length > 0) throw new BhLeakedError(this.name, leaked);
    let pending = 0;
    for (const clock of CLOCK_ORDER) pending += this.#timers[clock].size;
    if (pending > 0) {
      throw new AioError('ERR_AIO_TIMERS_PENDING', `AioContext '${this.name}': ${pending} timer(s) still pending; del() them before close()`);
    }
    this.#attached = false;
    if (this.#pool) void this.#pool.shutdown();
    // Senders see the context gone from here on; what reached it but will never run is
    // answered now, rather than never.
    this.#table.beginRelease(this.#slot);
    this.#intake.close();
    this.#faults.clear();
    this.#afterBhPhase = null;
    this.#handlers.clear();
    this.#bhs.clear();
    this.#unsubscribeVirtual();
    this.#closed = true;
    // Wake an async waiter so it sees the close, then give the slot back.
    Atomics.store(this.#w, this.#iWake, 1);
    Atomics.notify(this.#w, this.#iWake);
    this.#table.release(this.#slot);
    if (homeContext === this) homeContext = null;
  }

  /** Same as close(). */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Wakes the main context of this thread if someone waits in waitWhile() there
 * (aio_wait_kick). Call it after changing a condition a waiter watches. Any code in
 * this thread.
 */
export function aioWaitKick(): void {
  AioContext.main()._kick();
}
