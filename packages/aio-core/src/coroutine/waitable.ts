/**
 * Waitables: what the coroutine locks return, usable both as `yield* w` inside a
 * coroutine and as `await w` in an async function.
 *
 * Owns: the `Waitable` type, the ready and rejected waitables, the waiter record that
 * sits in a lock's FIFO (`Waiter`), and the intrusive FIFO for locks that look at their
 * head (`WaiterList`). Beside it: light waiters and CoMutex's queue that also takes them
 * (light-waiters.ts), and `Sequel`, a waitable that waits for another and then for a
 * follow-up (sequel.ts).
 *
 * How one object serves both: a lock decides at call time (`lock()`), so the queue
 * position is taken before the caller waits. Uncontended, it returns READY, a resolved
 * native promise (so `await` takes its fast path) whose iterator is already finished
 * (so `yield*` returns at once): nothing is allocated. Contended, it queues a request at
 * once, a Waiter or (CoMutex) a light waiter. Whoever consumes a Waiter sets how it is
 * woken: `yield*` records the running coroutine and yields until the waiter is granted
 * (the grant wakes it with aio_co_wake, so the wake-at-next-yield rule applies); `then()`
 * (what `await` calls) gets a promise the grant resolves (a microtask later). All kinds
 * wait in the same FIFO, so they are served strictly in arrival order.
 *
 * Which object the caller gets: inside a coroutine, the Waiter itself (`yield*` is the
 * likely use; no promise is made unless `then()` is called). Outside coroutines, where
 * only `await` can be meant, a native promise carrying the waiter's iterator, so `await`
 * takes the engine's fast path instead of the slower thenable protocol; `yield*` on it
 * still works.
 *
 * The light waiter: an async caller of `CoMutex.lock()` without a signal can neither be
 * cancelled nor woken by anything but the grant, so it gets no Waiter: the queue holds
 * the promise's resolve function, and the promise carries the lock's iterator for light
 * waiters. That leaves one promise as the whole cost of a contended `await m.lock()`.
 * A coroutine that `yield*`s such a promise waits like awaitPromise: it resumes a
 * microtask after the grant, even one made before (entered in its context, or through a
 * poll of it when that is not the current one), not by the wake-at-next-yield rule; if
 * it is cancelled, the grant is passed on as soon as it arrives (the request stays
 * queued until then).
 *
 * Cancellation, without losing a hand-off:
 * - an AbortSignal that fires while the waiter is queued removes it and fails the wait
 *   with `signal.reason`; once the lock has been handed over, the signal is too late and
 *   the waiter holds the lock (it must unlock, as after any successful wait);
 * - a coroutine cancelled (`return()`ed) while waiting leaves the queue (a light waiter
 *   passes its grant on instead); one cancelled after it was granted the lock but before
 *   it ran again gives the lock back at once, which hands it to the next waiter.
 *
 * A waitable is meant to be consumed once, by one waiter: a second coroutine that
 * `yield*`s it fails with ERR_AIO_COROUTINE. (Awaiting a light waiter's promise as well
 * as `yield*`ing it cannot be told apart from one use; a cancelled coroutine's grant is
 * then passed on while the await goes on, so the lock has two holders. Don't.) This
 * thread only.
 */
import { AioError } from '../base/errors.js';
import type { AbortSignalLike } from '../locks/futex.js';
import { Coroutine, yieldingSelf } from './coroutine.js';

/**
 * The result of a coroutine-lock operation: `await` it in an async function, or
 * `yield*` it in a coroutine. This thread.
 */
export interface Waitable<T> extends PromiseLike<T> {
  [Symbol.iterator](): Generator<unknown, T, unknown>;
}

/** A lock a CoQueue can release while it waits and take again after (QemuLockable). This thread. */
export interface CoLockable {
  lock(): Waitable<void>;
  unlock(): void;
}

/** A generator run to its end: its next() keeps answering { done: true }. */
const FINISHED: Generator<unknown, void, unknown> = (function* () {})();
FINISHED.next();

/**
 * The waitable of an operation that completed at call time: a resolved promise whose
 * iterator is finished. Shared and frozen. @internal
 */
export const READY: Waitable<void> = Object.freeze(
  Object.defineProperty(Promise.resolve(), Symbol.iterator, { value: () => FINISHED }) as Promise<void> & Waitable<void>,
);

/** A waitable that fails with `reason` however it is consumed. @internal */
export function rejected(reason: unknown): Waitable<never> {
  return {
    then(onFulfilled, onRejected) {
      return Promise.reject(reason).then(onFulfilled, onRejected);
    },
    *[Symbol.iterator](): Generator<unknown, never, unknown> {
      throw reason;
    },
  };
}

/** A function that does nothing (a settled waiter's unused resolvers). @internal */
export function ignore(): void {}

// A promise's resolvers, handed out by one shared executor: no closure per promise.
let takenResolve: (value: never) => void = ignore;
let takenReject: (reason: unknown) => void = ignore;
function takeResolvers(resolve: (value: never) => void, reject: (reason: unknown) => void): void {
  takenResolve = resolve;
  takenReject = reject;
}

/** Where the promise form of a waiter keeps it, for its shared iterator method. */
const WAITER = Symbol('aio.waiter');
type WaiterPromise<T> = Promise<T> & Waitable<T> & { [WAITER]: Waiter<T> };
function waiterPromiseIterator<T>(this: WaiterPromise<T>): Generator<unknown, T, unknown> {
  return this[WAITER][Symbol.iterator]();
}

const WAITING = 0;
const GRANTED = 1;
const FAILED = 2;
/** Handed over, but with an error the new holder must see (a lock taken over from a dead holder). */
const GRANTED_FAILING = 3;

/**
 * What a waiter asks of the lock or queue it waits in. One object per lock or queue (or
 * per request, where leaving needs per-request state), so that a waiter is a plain
 * Waiter: V8 constructs an instance of a subclass markedly slower (a CoMutex waiter made
 * by a subclass cost the 8-coroutine hand-off about 5 %). @internal
 */
export interface WaiterOwner<T = void> {
  /** Takes `w`, still waiting, off the queue. */
  removeWaiter(w: Waiter<T>): void;
  /** Gives back what was granted to `w` and will not be used: to the next waiter, if any. */
  releaseGrant(w: Waiter<T>): void;
}

/**
 * A queued request of a lock or queue. The owner dequeues it and calls `_grant()`; its
 * WaiterOwner says how to leave the queue and how to give back a grant nobody will use.
 * @internal
 */
export class Waiter<T> implements Waitable<T> {
  #state = WAITING;
  #outcome: unknown = undefined;
  #co: Coroutine<unknown> | null = null;
  #promise: Promise<T> | null = null;
  #resolve: ((v: T) => void) | null = null;
  #reject: ((e: unknown) => void) | null = null;
  /** The signal and the listener on it, while one is attached. */
  #abortHook: { readonly signal: AbortSignalLike; readonly listener: () => void } | null = null;
  readonly #owner: WaiterOwner<T>;
  /** Names the operation in errors, e.g. 'CoMutex.lock()'. */
  readonly #what: string;

  constructor(owner: WaiterOwner<T>, what: string, signal: AbortSignalLike | undefined) {
    this.#owner = owner;
    this.#what = what;
    if (signal !== undefined) this.#hook(signal);
  }

  /** Fails the wait when `signal` aborts while the waiter is queued. */
  #hook(signal: AbortSignalLike): void {
    const listener = () => this.#abort(signal.reason);
    this.#abortHook = { signal, listener };
    signal.addEventListener('abort', listener, { once: true });
  }

  /**
   * The owner dequeued the waiter and handed it what it waited for. Wakes the waiting
   * coroutine (aio_co_wake) or resolves the promise. @internal
   */
  _grant(value: T): void {
    this.#state = GRANTED;
    this.#outcome = value;
    this.#settle();
  }

  /**
   * Like `_grant()`, but the waiting code gets `reason` thrown, while it holds what was
   * handed over (OwnerDiedError: the lock was taken over from a holder that died). If the
   * waiting code is gone, what was handed over is given back as for a grant. @internal
   */
  _grantFailing(reason: unknown): void {
    this.#state = GRANTED_FAILING;
    this.#outcome = reason;
    this.#settle();
  }

  #fail(reason: unknown): void {
    this.#state = FAILED;
    this.#outcome = reason;
    this.#settle();
  }

  #settle(): void {
    if (this.#abortHook !== null) this.#unhook();
    this.#co?._wakeWaiting();
    if (this.#promise !== null) this.#settlePromise();
  }

  #unhook(): void {
    const hook = this.#abortHook!;
    hook.signal.removeEventListener('abort', hook.listener);
    this.#abortHook = null;
  }

  #settlePromise(): void {
    if (this.#state === GRANTED) this.#resolve?.(this.#outcome as T);
    else this.#reject?.(this.#outcome);
    this.#resolve = this.#reject = null;
  }

  /** True while queued: neither granted nor gone. @internal */
  get _waiting(): boolean {
    return this.#state === WAITING;
  }

  /** Takes a still queued waiter back, failing it with `reason`. @internal */
  _withdraw(reason: unknown): void {
    if (this.#state !== WAITING) return;
    this.#owner.removeWaiter(this);
    this.#fail(reason);
  }

  #abort(reason: unknown): void {
    if (this.#state !== WAITING) return;
    this.#owner.removeWaiter(this);
    this.#fail(reason);
  }

  /** Leaving without having used the outcome: dequeue, or pass a grant on. */
  #abandon(): void {
    if (this.#state === WAITING) {
      this.#owner.removeWaiter(this);
      // The coroutine gave up; a promise form of this request (if one was made) fails
      // too, but is not reported as unhandled.
      this.#promise?.then(undefined, ignore);
      this.#fail(new AioError('ERR_AIO_COROUTINE', `${this.#what}: the waiting co-routine was cancelled`));
    } else if (this.#state === GRANTED || this.#state === GRANTED_FAILING) {
      this.#state = FAILED;
      this.#owner.releaseGrant(this);
    }
  }

  /** The promise the outcome settles, made on first use. */
  #promiseOf(): Promise<T> {
    if (this.#promise === null) {
      if (this.#state === WAITING) {
        this.#promise = new Promise<T>(takeResolvers);
        this.#resolve = takenResolve as (v: T) => void;
        this.#reject = takenReject;
        takenResolve = takenReject = ignore;
      } else if (this.#state === GRANTED) {
        this.#promise = Promise.resolve(this.#outcome as T);
      } else {
        this.#promise = Promise.reject(this.#outcome);
      }
    }
    return this.#promise;
  }

  /**
   * What a lock operation hands its caller (see the file comment): the waiter inside a
   * coroutine, else a native promise with the waiter's iterator. `inCoroutine`: whether
   * the caller runs in a coroutine, if it knows. @internal
   */
  _waitable(inCoroutine = Coroutine.inCoroutine()): Waitable<T> {
    if (inCoroutine) return this;
    const p = this.#promiseOf() as WaiterPromise<T>;
    p[WAITER] = this;
    p[Symbol.iterator] = waiterPromiseIterator;
    // An abandoned request that its signal cancelled is not an error to report.
    if (this.#abortHook !== null) p.then(undefined, ignore);
    return p;
  }

  /** Promise side: what `await` calls. This thread. */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#promiseOf().then(onFulfilled, onRejected);
  }

  /**
   * Coroutine side: what `yield*` calls. The waiter is its own iterator (no generator
   * per wait): `next()` yields while it waits, then returns the outcome; `return()` and
   * `throw()` (the coroutine cancelled or thrown into while it waits) give up the wait.
   * This thread.
   */
  [Symbol.iterator](): Generator<unknown, T, unknown> {
    // All that `yield*` uses of a generator (next, return, throw).
    return this as unknown as Generator<unknown, T, unknown>;
  }

  /** @internal The iterator protocol, for `yield*`. */
  next(): IteratorResult<unknown, T> {
    const co = this.#co;
    if (co === null) {
      if (this.#state !== WAITING) return this.#outcomeResult();
      this.#co = yieldingSelf(this.#what);
      return STILL_WAITING;
    }
    if (co !== Coroutine.self()) throw secondWaiter(this.#what);
    // A stray enter() finds it still waiting and yields again.
    if (this.#state === WAITING) return STILL_WAITING;
    this.#co = null;
    return this.#outcomeResult();
  }

  /** @internal The iterator protocol: the waiting coroutine is being cancelled. */
  return(value?: unknown): IteratorResult<unknown, T> {
    if (this.#co !== null) {
      this.#co = null;
      this.#abandon();
    }
    return { done: true, value: value as T };
  }

  /** @internal The iterator protocol: an error was thrown into the waiting coroutine. */
  throw(e: unknown): IteratorResult<unknown, T> {
    if (this.#co !== null) {
      this.#co = null;
      this.#abandon();
    }
    throw e;
  }

  #outcomeResult(): IteratorResult<unknown, T> {
    if (this.#state !== GRANTED) throw this.#outcome;
    const value = this.#outcome as T;
    return value === undefined ? (DONE_VOID as IteratorResult<unknown, T>) : { done: true, value };
  }
}

/** A second coroutine tried to wait for a waitable that already has one. @internal */
export function secondWaiter(what: string): AioError {
  return new AioError('ERR_AIO_COROUTINE', `${what}: this waitable already has a waiting co-routine`);
}

/** What a waiter's `next()` answers while it waits: the coroutine yields. */
const STILL_WAITING: IteratorResult<unknown, never> = Object.freeze({ done: false, value: undefined });

/** What a waiter's `next()` answers for a grant of nothing (a lock's): `yield*` returns. */
const DONE_VOID: IteratorResult<unknown, undefined> = Object.freeze({ done: true, value: undefined });

/** A waiter that can sit on a {@link WaiterList}. @internal */
export class ListedWaiter<T> extends Waiter<T> {
  /** @internal FIFO links, owned by the WaiterList the waiter is on. */
  _prev: ListedWaiter<T> | null = null;
  /** @internal */
  _next: ListedWaiter<T> | null = null;
}

/** An intrusive FIFO of waiters: O(1) push, shift and remove. @internal */
export class WaiterList<W extends ListedWaiter<void>> {
  head: W | null = null;
  tail: W | null = null;

  get empty(): boolean {
    return this.head === null;
  }

  push(w: W): void {
    w._prev = this.tail;
    w._next = null;
    if (this.tail === null) this.head = w;
    else this.tail._next = w;
    this.tail = w;
  }

  shift(): W | null {
    const w = this.head;
    if (w !== null) this.remove(w);
    return w;
  }

  remove(w: W): void {
    const prev = w._prev as W | null;
    const next = w._next as W | null;
    if (prev === null) this.head = next;
    else prev._next = next;
    if (next === null) this.tail = prev;
    else next._prev = prev;
    w._prev = w._next = null;
  }

  /** Empties the list and returns what it held, oldest first. */
  takeAll(): W[] {
    const all: W[] = [];
    for (let w = this.head; w !== null; w = w._next as W | null) all.push(w);
    for (const w of all) w._prev = w._next = null;
    this.head = this.tail = null;
    return all;
  }
}
