/**
 * Coroutine: QEMU's coroutine core (util/qemu-coroutine.c) over generator functions.
 *
 * Owns: the coroutine object and its life cycle, this thread's "current coroutine", the
 * enter loop (qemu_aio_coroutine_enter) with its pending queue, each coroutine's wake-up
 * queue (co_queue_wakeup), and cancellation (which QEMU does not have).
 *
 * A coroutine's body is a generator. `yield` is qemu_coroutine_yield: it returns control
 * to whoever entered the coroutine. `enter()` runs the body synchronously up to its next
 * `yield` or its end. Helpers that wait (sleep, awaitPromise, lock waitables) are
 * generators too and are called with `yield*`.
 *
 * Wake-at-next-yield. Waking a coroutine of the current context from inside another
 * coroutine (coEnter, wake, a lock hand-off, CoQueue.next) never switches to it at once:
 * the target goes on the running coroutine's wake-up queue. The enter loop that ran the
 * current coroutine takes that queue when the coroutine yields or returns and enters the
 * queued coroutines itself, depth-first: a queue is put in front of what was already
 * pending. Every coroutine in such a chain is entered from the same loop frame, so a
 * ping-pong of any length uses constant JS stack; only explicit `enter()` calls nest.
 *
 * Everything here belongs to one JS thread: a coroutine, like the generator under it,
 * cannot move between threads. Contexts of that thread may pass it around.
 */
import { AioContext } from '../loop/context.js';
import type { ContextCoroutine } from '../loop/services.js';
import { AioError, argTypeError, checkFunction } from '../base/errors.js';
import type { AbortSignalLike } from '../locks/futex.js';
import { checkSignal } from '../locks/handle.js';

/** How the enter loop resumes the generator. */
const RESUME_NEXT = 0;
const RESUME_RETURN = 1;

/** The coroutine whose body runs now in this thread (qemu_coroutine_self), or null. */
let current: Coroutine<unknown> | null = null;

function coroutineError(message: string): AioError {
  return new AioError('ERR_AIO_COROUTINE', message);
}

function isThenable(v: unknown): boolean {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function isGenerator(g: unknown): g is Generator<unknown, unknown, unknown> {
  return (
    typeof g === 'object' &&
    g !== null &&
    typeof (g as Generator).next === 'function' &&
    typeof (g as Generator).return === 'function' &&
    typeof (g as Generator).throw === 'function'
  );
}

/**
 * A coroutine: a generator body plus QEMU's coroutine state. Make one with
 * `Coroutine.create(fn, ...args)`. All members are for the thread that created it.
 *
 * @example
 * ```ts
 * import { AioContext, Clock, Coroutine, sleep } from 'aio-node';
 *
 * const ctx = new AioContext();
 * const co = Coroutine.create(function* (n: number) {
 *   yield* sleep(Clock.Realtime, 1e6); // yields; ctx's timer resumes it
 *   return n * 2;
 * }, 21);
 * ctx.coEnter(co);
 * while (!co.done) ctx.poll(true);
 * console.log(await co.promise); // 42
 * ctx.close();
 * ```
 */
export class Coroutine<T> implements ContextCoroutine {
  readonly #gen: Generator<unknown, T, unknown>;
  /** On the stack: its body runs, or it entered a coroutine whose body runs (QEMU: caller != NULL). */
  #entered = false;
  #done = false;
  /** cancel() arrived while the body was on the stack: return() it at its next yield. */
  #cancelRequested = false;
  /** The generator's return() has been started by cancel(). */
  #cancelling = false;
  #cancelReason: unknown = undefined;
  /** Outcome once done: true when the body returned normally and was not cancelled. */
  #ok = false;
  #result: unknown = undefined;
  #promise: Promise<T> | null = null;
  // Typed without T, so that a Coroutine<T> is a Coroutine<unknown>.
  #resolve: ((v: unknown) => void) | null = null;
  #reject: ((e: unknown) => void) | null = null;
  /** Signals that cancel it (cancelOn), with their listeners, until it ends. */
  #abortHooks: { readonly signal: AbortSignalLike; readonly listener: () => void }[] | null = null;

  /** @internal The context it last ran in (co->ctx). */
  _ctx: AioContext | null = null;
  /**
   * @internal Who is going to enter it (co->scheduled: 'coSchedule()', 'sleep()',
   * 'awaitPromise()'), or null. While set, nobody else may enter it.
   */
  _scheduled: string | null = null;
  /** @internal Bumped by each scheduling and by cancel(), so stale schedule records are ignored. */
  _scheduleSeq = 0;
  /**
   * @internal The first coroutine to enter when this one yields or returns: the head of
   * its wake-up queue (co_queue_wakeup), kept apart because a coroutine mostly wakes one.
   */
  _wakeFirst: Coroutine<unknown> | null = null;
  /** @internal The rest of the wake-up queue, in wake order; empty while `_wakeFirst` is null. */
  _wakeRest: Coroutine<unknown>[] | null = null;
  /** @internal True while it sits on some coroutine's wake-up queue. */
  _queued = false;

  private constructor(gen: Generator<unknown, T, unknown>) {
    this.#gen = gen;
  }

  /**
   * Creates a coroutine that will run `fn(...args)` (qemu_coroutine_create). `fn` is
   * called now to build the generator; a generator function's body does not start until
   * the first `enter()`. This thread.
   */
  static create<A extends unknown[], T>(fn: (...args: A) => Generator<unknown, T, unknown>, ...args: A): Coroutine<T> {
    checkFunction('fn', fn);
    const gen: unknown = fn(...args);
    if (!isGenerator(gen)) throw argTypeError('fn', 'a generator function (a function returning a Generator)', fn);
    return new Coroutine<T>(gen as Generator<unknown, T, unknown>);
  }

  /** The coroutine whose body is running, or null outside coroutines (qemu_coroutine_self). This thread. */
  static self(): Coroutine<unknown> | null {
    return current;
  }

  /** True inside a coroutine body (qemu_in_coroutine). This thread. */
  static inCoroutine(): boolean {
    return current !== null;
  }

  /**
   * True while the coroutine is on the stack: its body runs, or it entered another
   * coroutine that has not yielded yet (qemu_coroutine_entered). This thread.
   */
  get entered(): boolean {
    return this.#entered;
  }

  /** True once the body has returned, thrown, or been cancelled. This thread. */
  get done(): boolean {
    return this.#done;
  }

  /** The context it last ran in, or null before its first entry (qemu_coroutine_get_aio_context). This thread. */
  get ctx(): AioContext | null {
    return this._ctx;
  }

  /**
   * Settles when the coroutine ends: with the body's return value, or rejected with what
   * it threw, or with the cancellation reason. A body that throws while nobody holds this
   * promise still produces a rejected promise, so the runtime reports the error. This thread.
   */
  get promise(): Promise<T> {
    if (this.#promise === null) {
      if (!this.#done) {
        this.#promise = new Promise<T>((resolve, reject) => {
          this.#resolve = resolve as (v: unknown) => void;
          this.#reject = reject;
        });
      } else if (this.#ok) {
        this.#promise = Promise.resolve(this.#result as T);
      } else {
        this.#promise = Promise.reject(this.#result);
      }
    }
    return this.#promise;
  }

  /**
   * Runs the coroutine in `AioContext.current()` until it yields or returns
   * (qemu_coroutine_enter); coroutines it wakes on the way run before this returns.
   * Throws ERR_AIO_COROUTINE when the coroutine is running ("re-entered recursively"), is
   * scheduled to be entered by someone else ("already scheduled"), is queued after a wake,
   * or has terminated. This thread.
   */
  enter(): void {
    if (!this.#enterable()) throw this.#enterError('Coroutine.enter()')!;
    Coroutine.#run(AioContext.current(), this, RESUME_NEXT);
  }

  /**
   * Restarts the coroutine in the context it last ran in (aio_co_wake): from a coroutine
   * of that context it runs when the caller yields; from another context it is scheduled
   * there; otherwise it runs now. It must be waiting at a plain `yield`. This thread.
   */
  wake(): void {
    const ctx = this._ctx;
    if (ctx === null) {
      throw coroutineError('Coroutine.wake(): the co-routine has never run, so it has no context to wake in; use enter() or coEnter(ctx, co)');
    }
    ctx.coEnter(this);
  }

  /**
   * Cancels the coroutine (as `cancel(signal.reason)`) when `signal` aborts, so its
   * `finally` blocks run; an already aborted signal cancels it now. Several signals may
   * be given; their listeners are removed when the coroutine ends. Returns the coroutine,
   * for `ctx.coEnter(Coroutine.create(fn).cancelOn(signal))`. This thread.
   */
  cancelOn(signal: AbortSignalLike): this {
    if (signal === undefined) throw argTypeError('signal', 'an AbortSignal', signal);
    checkSignal('signal', signal);
    if (this.#done) return this;
    if (signal.aborted) {
      this.cancel(signal.reason);
      return this;
    }
    const listener = (): void => this.cancel(signal.reason);
    signal.addEventListener('abort', listener, { once: true });
    (this.#abortHooks ??= []).push({ signal, listener });
    return this;
  }

  /**
   * Cancels the coroutine: its generator is `return()`ed, so its `finally` blocks run (a
   * waiting lock, sleep or promise is given up on the way), and `promise` rejects with
   * `reason` (default: an AioError 'ERR_AIO_COROUTINE'). A suspended coroutine is
   * cancelled now, synchronously, like `enter()`; one that is on the stack is cancelled
   * at its next yield; one that finishes first keeps its result. A `finally` block may
   * still wait (`yield`); the coroutine then ends when it is next entered. A second
   * cancel() while one is in progress does nothing. This thread.
   */
  cancel(reason?: unknown): void {
    if (this.#done || this.#cancelling || this.#cancelRequested) return;
    this.#cancelReason = reason !== undefined ? reason : coroutineError('Coroutine.cancel(): the co-routine was cancelled');
    if (this.#entered) {
      this.#cancelRequested = true;
      return;
    }
    this.#detachWakers();
    this.#cancelling = true;
    Coroutine.#run(this._ctx ?? AioContext.current(), this, RESUME_RETURN);
  }

  /**
   * aio_co_wake for a coroutine that waits for a grant, unless it is already due to run
   * (woken by someone else, scheduled, or on the stack): it sees the new state when it
   * gets there, and waking it again would be a double entry. From a coroutine of the
   * context it waits in, it goes straight onto that coroutine's wake-up queue (what
   * wake() ends in, without the argument checks of coEnter). @internal
   */
  _wakeWaiting(): void {
    if (this._queued || this._scheduled !== null || this.#entered) return;
    const self = current;
    if (self !== null && !this.#done && this._ctx === AioContext.current()) {
      this.#queueOn(self);
      return;
    }
    this.wake();
  }

  /**
   * Whoever was going to enter the coroutine (a schedule, a timer, a promise, a wake-up
   * queue) finds it no longer theirs.
   */
  #detachWakers(): void {
    this._scheduled = null;
    this._scheduleSeq++;
    this._queued = false;
  }

  /**
   * True unless entering now would be a bug (see #enterError). Apart from it so that the
   * hot paths that inline it stay small (the engine's inlining budget is per function).
   */
  #enterable(): boolean {
    return !this.#entered && this._scheduled === null && !this._queued && !this.#done;
  }

  /** Why entering now would be a bug (QEMU aborts on these), or null. */
  #enterError(what: string): AioError | null {
    if (this.#entered) return coroutineError(`${what}: co-routine re-entered recursively`);
    if (this._scheduled !== null) {
      return coroutineError(`${what}: co-routine was already scheduled in '${this._scheduled}'; only that may enter it`);
    }
    if (this._queued) return coroutineError(`${what}: co-routine is already queued to run after a wake-up; only that may enter it`);
    if (this.#done) return coroutineError(`${what}: co-routine has already terminated`);
    return null;
  }

  /** Throws unless the coroutine may be scheduled now (by coSchedule, sleep, ...). @internal */
  _checkSchedulable(what: string): void {
    if (this.#done) throw coroutineError(`${what}: co-routine has already terminated`);
    if (this._scheduled !== null) throw coroutineError(`${what}: co-routine was already scheduled in '${this._scheduled}'`);
    if (this._queued) throw coroutineError(`${what}: co-routine is already queued to run after a wake-up`);
  }

  /** Enters the coroutine in `ctx` now (the direct qemu_aio_coroutine_enter). Throws like enter(). @internal */
  _enterIn(ctx: AioContext, what: string): void {
    const err = this.#enterError(what);
    if (err !== null) throw err;
    Coroutine.#run(ctx, this, RESUME_NEXT);
  }

  /**
   * Puts the coroutine on `self`'s wake-up queue: it runs when `self` yields or returns
   * (the in-coroutine branch of aio_co_enter). @internal
   */
  _queueAfter(self: Coroutine<unknown>, what: string): void {
    if (self === this) throw coroutineError(`${what}: a co-routine cannot wake itself`);
    this._checkSchedulable(what);
    this.#queueOn(self);
  }

  /** Appends the coroutine to `self`'s wake-up queue. */
  #queueOn(self: Coroutine<unknown>): void {
    this._queued = true;
    if (self._wakeFirst === null) self._wakeFirst = this;
    else (self._wakeRest ??= []).push(this);
  }

  /**
   * The enter loop (qemu_aio_coroutine_enter). `first` was checked by the caller. Each
   * coroutine that yields or returns is followed by the head of its wake-up queue; the
   * rest of that queue goes in front of what was already pending. The pending stack
   * holds coroutines in reverse run order, so that is a push of the rest reversed.
   * Entries that were unqueued meanwhile (cancelled) are skipped. A misuse found on a
   * queued entry does not stop the others: the first such error is thrown once the loop
   * is empty.
   */
  static #run(ctx: AioContext, first: Coroutine<unknown>, mode: number): void {
    const from = current;
    first.#step(ctx, from, mode);
    if (first._wakeFirst === null) return;
    // One pending stack for the thread (an array per enter loop made a contended hand-off
    // 1.5x slower): an enter() from inside a woken coroutine runs a nested loop above this
    // one's `base`, so each loop only pops its own entries.
    const pending = Coroutine.#pending;
    const base = pending.length;
    let to: Coroutine<unknown> | null = Coroutine.#takeWakeups(first, pending);
    let failure: AioError | null = null;
    try {
      while (to !== null) {
        let next: Coroutine<unknown> | null = null;
        if (to._queued) {
          to._queued = false;
          if (to.#enterable()) {
            to.#step(ctx, from, RESUME_NEXT);
            if (to._wakeFirst !== null) next = Coroutine.#takeWakeups(to, pending);
          } else {
            failure ??= to.#enterError('Coroutine.enter() of a woken co-routine');
          }
        }
        to = next ?? (pending.length > base ? pending.pop()! : null);
      }
    } finally {
      // Only reached with entries left if something internal threw: drop them here.
      if (pending.length > base) pending.length = base;
    }
    if (failure !== null) throw failure;
  }

  /** Woken coroutines still to enter, in reverse run order (see #run). */
  static readonly #pending: Coroutine<unknown>[] = [];

  /**
   * Empties `co`'s wake-up queue: returns its head (to run next) and moves the rest onto
   * the pending stack, in front of what is there (popping it from its end pushes its last
   * entry first, so its first is popped first).
   */
  static #takeWakeups(co: Coroutine<unknown>, pending: Coroutine<unknown>[]): Coroutine<unknown> {
    const head = co._wakeFirst!;
    co._wakeFirst = null;
    const rest = co._wakeRest;
    if (rest !== null) while (rest.length > 0) pending.push(rest.pop()!);
    return head;
  }

  /** Runs the body from its current suspension point to the next yield or its end. */
  #step(ctx: AioContext, from: Coroutine<unknown> | null, mode: number): void {
    const gen = this.#gen;
    this.#entered = true;
    this._ctx = ctx;
    current = this;
    let r: IteratorResult<unknown, T>;
    try {
      r = mode === RESUME_RETURN ? gen.return(undefined as T) : gen.next();
      if (!r.done && (this.#cancelRequested || r.value !== undefined)) r = this.#unusualYield(gen, r);
    } catch (e) {
      current = from;
      this.#entered = false;
      this.#cancelRequested = false;
      this.#finish(false, e);
      return;
    }
    current = from;
    this.#entered = false;
    if (r.done) this.#finish(true, r.value);
  }

  /**
   * A yield that #step must not simply return from: cancel() arrived meanwhile (the body
   * is return()ed now), or it yielded a value. Returns where the body stopped after that.
   */
  #unusualYield(gen: Generator<unknown, T, unknown>, r: IteratorResult<unknown, T>): IteratorResult<unknown, T> {
    while (!r.done) {
      if (this.#cancelRequested) {
        this.#cancelRequested = false;
        this.#cancelling = true;
        this.#detachWakers();
        r = gen.return(undefined as T);
      } else if (r.value !== undefined && isThenable(r.value)) {
        // `yield p` would suspend forever; say how to wait instead.
        r = gen.throw(
          coroutineError('a co-routine yielded a promise-like value; wait with `yield* awaitPromise(p)`, or `yield* waitable` for a lock'),
        );
      } else {
        break;
      }
    }
    return r;
  }

  #finish(returned: boolean, value: unknown): void {
    this.#done = true;
    if (this.#abortHooks !== null) {
      for (const { signal, listener } of this.#abortHooks) signal.removeEventListener('abort', listener);
      this.#abortHooks = null;
    }
    if (returned && !this.#cancelling) {
      this.#ok = true;
      this.#result = value;
      if (this.#resolve !== null) this.#resolve(value);
    } else {
      const reason = returned ? this.#cancelReason : value;
      this.#result = reason;
      if (this.#reject !== null) this.#reject(reason);
      // An error nobody has asked about yet is still reported (as an unhandled rejection);
      // a cancellation is not, since whoever cancelled knows.
      else if (!returned && this.#promise === null) this.#promise = Promise.reject(reason);
    }
    this.#resolve = null;
    this.#reject = null;
  }
}

/**
 * The running coroutine, for helpers about to yield; throws ERR_AIO_COROUTINE naming
 * `what` outside coroutines (QEMU: "Co-routine is yielding to no one"). This thread.
 * @internal
 */
export function yieldingSelf(what: string): Coroutine<unknown> {
  if (current === null) throw coroutineError(`${what}: yielding outside a co-routine (it would be yielding to no one)`);
  return current;
}
