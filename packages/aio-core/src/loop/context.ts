/**
 * AioContext: QEMU's event-loop object (util/async.c). A context owns bottom halves,
 * timers and event-notifier handlers and dispatches them in `poll()`, in QEMU's order:
 * bottom halves, then handlers, then timers. It belongs to the JS thread that created it
 * (its home thread); other threads reach it through its handle.
 *
 * Progress rule (what `poll()` returns): true iff a non-idle BH ran, a handler other than
 * the context's own notifier was dispatched, or a timer fired. A notify alone is not
 * progress, so a blocking poll returns false only when someone called notify().
 *
 * Owns: the event loop's public surface (argument checks, then the part that does the
 * work) and which context is current in a thread, and the context's lifetime. The parts
 * live beside it: the context's identity, lock, notify and fault reports (context-base.ts),
 * the poll pass and the poller side of the wake protocol (poll.ts, notify.ts), the BH list
 * and BH phase (bh-list.ts), handlers and adaptive polling (handler.ts), timers (timer.ts),
 * running inside the host loop (attach.ts), waiting (wait.ts), the spin for replies
 * (reply-poll.ts); context-parts.ts checks the options and wires the parts. Layers built
 * on the loop plug in through ContextExtensions (work from other threads, the thread
 * pool, coroutine entry, remote contexts, host event sources), installed by the package
 * entry; the loop imports none of them.
 */
import type { HostLoopAttachment } from './attach.js';
import { type ContextHandle, ContextBase } from './context-base.js';
import { BH_ONESHOT, BH_PENDING, BH_SCHEDULED, BottomHalf, type BhOwner } from './bh.js';
import type { BhList } from './bh-list.js';
import { type ClockType, onVirtualClockEnabled } from './clock.js';
import type { AioContextOptions, AioContextStats, EventNotifierOptions, MessageSourceLike, ReadableStreamLike } from './context-options.js';
import { AioError, BhLeakedError, argTypeError, checkBoolean, checkFunction, checkInteger, checkOptions, checkString } from '../base/errors.js';
import { buildContextParts, contextSettings } from './context-parts.js';
import { type HandlerSet, type PollParams, checkPollParams, newHandler } from './handler.js';
import { assertCanBlock } from '../base/host.js';
import { EventNotifier } from './notifier.js';
import { extensions } from './context-extensions.js';
import type { ContextIntake, DispatchingNow, Poller } from './poll.js';
import type { ReplyPoll } from './reply-poll.js';
import { Slot, type WakeTable } from '../base/shared-memory.js';
import type { AnyFunctions, ContextCoroutine, RemoteContext, ThreadPool } from './services.js';
import { type ArmedTimers, Timer, type TimerList, checkTimerArgs } from './timer.js';
import { hasWaiters, pollWhile, pollWhileAsync } from './wait.js';

export type { AioContextOptions, AioContextStats, EventNotifierOptions } from './context-options.js';

let mainContext: AioContext | null = null;
let homeContext: AioContext | null = null;
/** The context dispatching in this thread now (the innermost pass's); null when none. */
const dispatching: DispatchingNow<AioContext> = { ctx: null };
let contextCount = 0;

/**
 * An event loop. Construct it in the thread that will run it; all methods are for that
 * (home) thread unless they say otherwise. Other threads use `AioContext.from(ctx.handle)`.
 *
 * @example
 * ```ts
 * import { AioContext } from 'aio-node';
 *
 * const ctx = new AioContext({ name: 'loop' });
 * const bh = ctx.bh(() => console.log('runs inside a poll, in this thread'));
 * bh.schedule();
 * ctx.poll(false); // bottom halves, then handlers, then timers
 * bh.delete();
 * ctx.close();
 * ```
 */
export class AioContext extends ContextBase implements BhOwner {
  readonly #bhs: BhList;
  readonly #timers: Record<ClockType, TimerList>;
  readonly #armedTimers: Readonly<ArmedTimers>;
  readonly #unsubscribeVirtual: () => void;
  readonly #handlers: HandlerSet;
  /** Work from other threads (see ContextIntake). */
  readonly #intake: ContextIntake;
  readonly #poller: Poller;
  readonly #hostLoop: HostLoopAttachment;
  readonly #replies: ReplyPoll;
  #pool: ThreadPool | null = null;
  #poolModules: (string | URL)[] = [];

  constructor(options?: AioContextOptions) {
    const settings = contextSettings(options, () => `ctx${++contextCount}`);
    super(settings.name);
    this.#intake = extensions.intake(this);
    const parts = buildContextParts(
      {
        owner: this,
        dispatching,
        table: this._table,
        slot: this._slot,
        exposure: this._exposure,
        ops: this._ops,
        base: this._base,
        lock: this._lock,
        faults: this._faults,
        intake: this.#intake,
        badRecord: (problem) => this._badRecord(problem),
        hasLiveWork: () => this.#hasLiveWork(),
      },
      settings,
    );
    ({ bhs: this.#bhs, timers: this.#timers, armedTimers: this.#armedTimers, handlers: this.#handlers } = parts);
    ({ replies: this.#replies, poller: this.#poller, hostLoop: this.#hostLoop } = parts);
    this.#unsubscribeVirtual = onVirtualClockEnabled(() => this.notify());
  }

  /**
   * The context dispatching now in this thread; else the thread's home context (an
   * IOThread's); else `main()` (qemu_get_current_aio_context). Any code in this thread.
   */
  static current(): AioContext {
    return dispatching.ctx ?? homeContext ?? AioContext.main();
  }

  /**
   * The context this thread polls now or would poll next, without creating one: the one
   * dispatching, else the home context, else the main context if it exists. @internal
   */
  static _polledHere(): AioContext | null {
    return dispatching.ctx ?? homeContext ?? mainContext;
  }

  /** This thread's main-loop context, created on first use (qemu_get_aio_context). */
  static main(): AioContext {
    // close() forgets the main context, so this is one load on the hot path of current().
    return (mainContext ??= new AioContext({ name: 'main' }));
  }

  /**
   * Makes `ctx` the thread's home context (an IOThread's context), or clears it with null.
   * Called by the thread runner before its loop starts. This thread only.
   */
  static setHome(ctx: AioContext | null): void {
    if (ctx !== null && !(ctx instanceof AioContext)) throw argTypeError('ctx', 'an AioContext or null', ctx);
    homeContext = ctx;
  }

  /**
   * Rebuilds a context handle received from another thread as a {@link RemoteContext}.
   * `F` types its calls: the functions that context's thread registers (see
   * {@link FunctionName}). Any thread.
   */
  static from<F = AnyFunctions>(handle: ContextHandle): RemoteContext<F> {
    return extensions.remote(handle) as RemoteContext<F>;
  }

  // ---------------------------------------------------------------- coroutines

  /**
   * Restarts `co` here (aio_co_enter): schedules it if this is not the current context;
   * inside a coroutine, queues it to run when the current one yields or returns; else
   * enters it now. Home thread.
   */
  coEnter(co: ContextCoroutine): void {
    extensions.coEnter(this, co);
  }

  /**
   * Enters `co` in this context's next poll, after everything scheduled before it
   * (aio_co_schedule); scheduling it twice throws ERR_AIO_COROUTINE. Home thread.
   */
  coSchedule(co: ContextCoroutine): void {
    extensions.coSchedule(this, co);
  }

  /**
   * This context's thread pool (QEMU's aio_get_thread_pool), created on first use. Its
   * workers load the modules of this context's IOThread. Home thread.
   */
  get threadPool(): ThreadPool {
    this.assertOpen('AioContext.threadPool');
    return (this.#pool ??= extensions.threadPool(this, this.#poolModules));
  }

  /** The modules pool workers of this context load first (the IOThread's own). @internal */
  _setPoolModules(modules: string[]): void {
    this.#poolModules = modules;
  }

  /** Runs `fn` with this context as AioContext.current(), so replies it asks for land here. @internal */
  _run<T>(fn: () => T): T {
    const outer = dispatching.ctx;
    dispatching.ctx = this;
    try {
      return fn();
    } finally {
      dispatching.ctx = outer;
    }
  }

  /**
   * Installs what a blocking poll asks before it sleeps: the longest it may sleep, in ns
   * (-1: no limit). The thread runner caps the sleep while its host loop is owed a turn,
   * so a wake-up in time is served at once and the turn is given only when idle. @internal
   */
  _setSleepCap(cap: (() => number) | null): void {
    this.#poller.sleepCap = cap;
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
    const replies = this.#replies;
    replies.awaited += delta;
    // The reply comes as a record from another thread (see _exposure).
    this._exposure.exposed = true;
    if (delta > 0 && !this.attached && this === mainContext) this.attach();
    else if (delta > 0) {
      // A pass asleep in the host loop would sleep through a quick reply: restarted, its
      // successor spins for it after the code making the call has run (reply-poll.ts).
      if (replies.active) this.#poller.restartSleep();
      // The first reply awaited while an attached pass sleeps without holding the process:
      // without this, the process could exit before the reply (nothing else may be left).
      else if (replies.awaited === delta) this.#hostLoop.holdWhileAsleep();
    }
    if (replies.awaited === 0 && this.attached) this.notify(); // re-evaluate keep-alive
  }

  /**
   * Runs `fn` at the end of this context's next BH phase, after the work from other
   * threads that phase takes (what a thread sent before it ended is there by then).
   * Wakes the context. Dropped if the context closes first. This thread. @internal
   */
  _afterBhPhase(fn: () => void): void {
    if (this.closed) return;
    this.#poller.afterBhPhase(fn);
    this.notify();
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
    this._wakeSleeper();
  }

  /**
   * aio_notify for work this thread added to the context's own lists (a local BH, a new
   * earliest timer): needed only when a pass of this context announced a sleep (a
   * pollAsync asleep in the host loop; notify_me != 0). Only the home thread polls, and
   * a pass not asleep yet looks at those lists after its announce, before it may sleep
   * (poll.ts), so without a sleeper nothing can miss the work. `sleepers` is a plain
   * count kept by this thread, the only writer of NotifyMe. Home thread. @internal
   */
  _wakeSleeper(): void {
    if (this.#poller.sleepers > 0) this.notify();
  }

  /** @internal */
  _shareBh(bh: BottomHalf): { id: number; table: WakeTable; slot: number; generation: number } {
    return { id: this.#bhs.share(bh), table: this._table, slot: this._slotForOthers(), generation: this._generation };
  }

  // ---------------------------------------------------------------- timers

  /** Creates a timer on `clock` whose `mod()` takes units of `scale` ns (aio_timer_new). Home thread. */
  timer(clock: ClockType, scale: number, cb: () => void): Timer {
    checkTimerArgs(clock, scale, cb);
    this.assertOpen('AioContext.timer()');
    return new Timer(this, this.#timers[clock], scale, cb);
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
    if (options?.external !== undefined) checkBoolean('options.external', options.external);
    this.assertOpen('AioContext.setEventNotifier()');
    const poll = onPoll && onPollReady ? onPoll : null;
    const make = onRead === null ? null : () => newHandler(e, e._words, 0, () => onRead(e), poll, poll ? onPollReady! : null, options?.external ?? true);
    if (this.#handlers.set(e, make, this.name, this._table.id, this._slotForOthers())) this.notify();
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
    extensions.messageHandler(this, source, onMessage, options);
  }

  /**
   * Delivers the chunks of a web `ReadableStream` (a Deno connection's `readable`, a fetch
   * body, a child process's output) to `onChunk` in this context's handler phase, in order,
   * then `onChunk(null)` at its end; null stops reading. External clients by default.
   * Home thread.
   */
  setStreamHandler<T>(stream: ReadableStreamLike<T>, onChunk: ((chunk: T | null) => void) | null, options?: EventNotifierOptions): void {
    this.assertOpen('AioContext.setStreamHandler()');
    extensions.streamHandler(this, stream, onChunk, options);
  }

  /**
   * Sets adaptive polling (aio_context_set_poll_params): busy-wait up to `maxNs` before
   * sleeping, growing by `grow` (0 = 2) and shrinking by `shrink` (0 = to zero). `maxNs` 0
   * disables polling. Resets every handler's polling time. Home thread.
   */
  setPollParams(p: { maxNs: number; grow?: number; shrink?: number }): void {
    checkOptions('p', p);
    if (p === undefined) throw argTypeError('p', 'an object', p);
    const params = checkPollParams(['p.maxNs', 'p.grow', 'p.shrink'], p.maxNs, p.grow ?? 0, p.shrink ?? 0);
    this.assertOpen('AioContext.setPollParams()');
    this.#handlers.setParams(params);
    this.notify();
  }

  /** Current polling parameters. Home thread. */
  get pollParams(): Readonly<PollParams> {
    return { ...this.#handlers.params };
  }

  /**
   * Sets how long, at most, a poll of this context spins for a reply before it sleeps,
   * while calls made from this thread await replies here (`IOThread.call()` and the other
   * calls whose promise this context settles): `maxNs` 0 turns it off. The spin adapts
   * between 0 and `maxNs` as QEMU's polling does (a reply slower than `maxNs` stops it
   * until replies come faster again), and runs only while a reply is awaited, so an idle
   * context never spins. Default 32768 ns (`REPLY_POLL_MAX_NS_DEFAULT`). Home thread.
   */
  setReplyPollMaxNs(maxNs: number): void {
    checkInteger('maxNs', maxNs, 0, Number.MAX_SAFE_INTEGER);
    this.assertOpen('AioContext.setReplyPollMaxNs()');
    this.#replies.maxNs = maxNs;
  }

  /** The ceiling of the spin for replies, in ns (see `setReplyPollMaxNs`). Home thread. */
  get replyPollMaxNs(): number {
    return this.#replies.maxNs;
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

  /**
   * Counters of this context's work, and with the `timing` option where its time went.
   * Home thread.
   */
  stats(): AioContextStats {
    return {
      ...this.#poller.stats,
      bhRuns: this.#bhs.runs,
      handlerDispatches: this.#handlers.dispatches,
      pollingNs: this.#handlers.pollingNs + this.#replies.spinningNs,
      faults: this._faults.count,
    };
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
    return this.#poller.poll(blocking);
  }

  /**
   * A blocking poll that never blocks the thread: it waits with Atomics.waitAsync (and a
   * host timer for the deadline) and holds the process alive meanwhile. Home thread.
   */
  async pollAsync(): Promise<boolean> {
    this.assertOpen('AioContext.pollAsync()');
    return this.#poller.pollAsync(true, null);
  }

  /**
   * Runs the context inside the host event loop (like attaching QEMU's GSource): it polls
   * with pollAsync whenever there is work. It keeps the process alive only while it has
   * pending timers or registered handlers. Home thread.
   */
  attach(): void {
    this.assertOpen('AioContext.attach()');
    this.#hostLoop.attach();
  }

  /** Stops running inside the host loop; nothing is dispatched by it after this returns. Home thread. */
  detach(): void {
    // Wake the pass asleep, so it sees the detach and returns.
    if (this.#hostLoop.detach()) this.notify();
  }

  /** True while attached. */
  get attached(): boolean {
    return this.#hostLoop.attached;
  }

  #hasLiveWork(): boolean {
    return this.#handlers.hasUserHandlers || this.#replies.awaited > 0 || this.#armedTimers.count > 0;
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
    return pollWhile(this._ops, this._base, cond, () => this.poll(true));
  }

  /** The asynchronous form of waitWhile(), using pollAsync. Home thread. */
  async waitWhileAsync(cond: () => boolean): Promise<boolean> {
    checkFunction('cond', cond);
    this.assertOpen('AioContext.waitWhileAsync()');
    return pollWhileAsync(this._ops, this._base, cond, () => this.pollAsync());
  }

  /** Schedules an empty oneshot if a waitWhile() caller sleeps here (aio_wait_kick). @internal */
  _kick(): void {
    if (hasWaiters(this._ops, this._base)) this.scheduleOneshot(() => {}, { name: 'aio_wait_kick' });
  }

  // ---------------------------------------------------------------- lifetime

  /**
   * Closes the context (aio_context_unref's finalize). Throws ERR_AIO_BH_LEAKED naming
   * every BH not deleted, or ERR_AIO_TIMERS_PENDING; after either error the context is
   * still open and usable. Removes remaining handlers. Home thread.
   */
  close(): void {
    if (this.closed) return;
    const leaked = this.#bhs.leaked();
    if (leaked.length > 0) throw new BhLeakedError(this.name, leaked);
    const pending = this.#armedTimers.count;
    if (pending > 0) {
      throw new AioError('ERR_AIO_TIMERS_PENDING', `AioContext '${this.name}': ${pending} timer(s) still pending; del() them before close()`);
    }
    this.#hostLoop.detach();
    if (this.#pool) void this.#pool.shutdown();
    // Senders see the context gone from here on; what reached it but will never run is
    // answered now, rather than never.
    this._table.beginRelease(this._slot);
    this.#intake.close();
    this._faults.clear();
    this.#poller.clear();
    this.#handlers.clear();
    this.#bhs.clear();
    this.#unsubscribeVirtual();
    this._markClosed();
    // Wake an async waiter so it sees the close, then give the slot back.
    const wake = this._base + Slot.Wake;
    this._ops.store(wake, 1);
    this._ops.notify(wake, Infinity);
    this._table.release(this._slot);
    if (homeContext === this) homeContext = null;
    if (mainContext === this) mainContext = null;
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
