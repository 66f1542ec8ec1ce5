/**
 * Waitables: what the coroutine locks return, usable both as `yield* w` inside a
 * coroutine and as `await w` in an async function.
 *
 * Owns: the `Waitable` type, the ready and rejected waitables, the waiter record that
 * sits in a lock's FIFO (`Waiter`), that FIFO (`WaiterList`), and `Sequel`, a waitable
 * that waits for another and then for a follow-up (CoQueue's relock, an upgrade's
 * fallback).
 *
 * How one object serves both: a lock decides at call time (`lock()`), so the queue
 * position is taken before the caller waits. Uncontended, it returns READY, a resolved
 * native promise (so `await` takes its fast path) whose iterator is already finished
 * (so `yield*` returns at once): nothing is allocated. Contended, it queues a Waiter at
 * once. Whoever consumes the waiter sets how it is woken: `yield*` records the running
 * coroutine and yields until the waiter is granted (the grant wakes it with aio_co_wake,
 * so the wake-at-next-yield rule applies); `then()` (what `await` calls) gets a promise
 * the grant resolves (a microtask later). Both kinds wait in the same FIFO, so they are
 * served strictly in arrival order.
 *
 * Which object the caller gets: inside a coroutine, the Waiter itself (`yield*` is the
 * likely use; no promise is made unless `then()` is called). Outside coroutines, where
 * only `await` can be meant, a native promise carrying the waiter's iterator, so `await`
 * takes the engine's fast path instead of the slower thenable protocol; `yield*` on it
 * still works.
 *
 * Cancellation, without losing a hand-off:
 * - an AbortSignal that fires while the waiter is queued removes it and fails the wait
 *   with `signal.reason`; once the lock has been handed over, the signal is too late and
 *   the waiter holds the lock (it must unlock, as after any successful wait);
 * - a coroutine cancelled (`return()`ed) while waiting leaves the queue; one cancelled
 *   after it was granted the lock but before it ran again gives the lock back at once,
 *   which hands it to the next waiter.
 *
 * A waitable is meant to be consumed once, by one waiter. This thread only.
 */
import { AioError } from '../errors.js';
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

function ignore(): void {}

const WAITING = 0;
const GRANTED = 1;
const FAILED = 2;

/**
 * A queued request of a lock or queue. The owner dequeues it and calls `_grant()`;
 * subclasses say how to leave the queue (`_remove`) and how to give back a grant nobody
 * will use (`_release`). @internal
 */
export abstract class Waiter<T> implements Waitable<T> {
  /** @internal FIFO links, owned by the WaiterList the waiter is on. */
  _prev: Waiter<T> | null = null;
  /** @internal */
  _next: Waiter<T> | null = null;
  #state = WAITING;
  #outcome: unknown = undefined;
  #co: Coroutine<unknown> | null = null;
  #promise: Promise<T> | null = null;
  #resolve: ((v: T) => void) | null = null;
  #reject: ((e: unknown) => void) | null = null;
  #signal: AbortSignalLike | undefined;
  #onAbort: (() => void) | null = null;

  /** `what` names the operation in errors, e.g. 'CoMutex.lock()'. */
  constructor(
    private readonly _what: string,
    signal: AbortSignalLike | undefined,
  ) {
    if (signal !== undefined) {
      this.#signal = signal;
      this.#onAbort = () => this.#abort();
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** Takes the waiter off its owner's queue (it is still WAITING). */
  protected abstract _remove(): void;
  /** Gives back what `_grant()` handed over, to the next waiter if any. */
  protected abstract _release(): void;

  /**
   * The owner dequeued the waiter and handed it what it waited for. Wakes the waiting
   * coroutine (aio_co_wake) or resolves the promise. @internal
   */
  _grant(value: T): void {
    this.#state = GRANTED;
    this.#outcome = value;
    this.#settle();
  }

  #fail(reason: unknown): void {
    this.#state = FAILED;
    this.#outcome = reason;
    this.#settle();
  }

  #settle(): void {
    if (this.#onAbort !== null) {
      this.#signal!.removeEventListener('abort', this.#onAbort);
      this.#onAbort = null;
    }
    const co = this.#co;
    // A coroutine already due to run (woken by someone else, scheduled, or on the stack)
    // sees the new state when it gets there; waking it again would be a double entry.
    if (co !== null && !co._queued && co._scheduled === null && !co.entered) co.wake();
    if (this.#state === GRANTED) this.#resolve?.(this.#outcome as T);
    else this.#reject?.(this.#outcome);
    this.#resolve = this.#reject = null;
  }

  /** Takes a still queued waiter back, failing it with `reason`. @internal */
  _withdraw(reason: unknown): void {
    if (this.#state !== WAITING) return;
    this._remove();
    this.#fail(reason);
  }

  #abort(): void {
    if (this.#state !== WAITING) return;
    this._remove();
    this.#fail(this.#signal!.reason);
  }

  /** Leaving without having used the outcome: dequeue, or pass a grant on. */
  #abandon(): void {
    if (this.#state === WAITING) {
      this._remove();
      // The coroutine gave up; a promise form of this request (if one was made) fails
      // too, but is not reported as unhandled.
      this.#promise?.then(undefined, ignore);
      this.#fail(new AioError('ERR_AIO_COROUTINE', `${this._what}: the waiting co-routine was cancelled`));
    } else if (this.#state === GRANTED) {
      this.#state = FAILED;
      this._release();
    }
  }

  /** The promise the outcome settles, made on first use. */
  #promiseOf(): Promise<T> {
    if (this.#promise === null) {
      if (this.#state === WAITING) {
        this.#promise = new Promise<T>((resolve, reject) => {
          this.#resolve = resolve;
          this.#reject = reject;
        });
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
   * coroutine, else a native promise with the waiter's iterator. @internal
   */
  _waitable(): Waitable<T> {
    if (Coroutine.inCoroutine()) return this;
    const p = this.#promiseOf() as Promise<T> & Waitable<T>;
    p[Symbol.iterator] = () => this.#wait();
    // An abandoned request that its signal cancelled is not an error to report.
    if (this.#signal !== undefined) p.then(undefined, ignore);
    return p;
  }

  /** Promise side: what `await` calls. This thread. */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#promiseOf().then(onFulfilled, onRejected);
  }

  /** Coroutine side: what `yield*` calls. This thread. */
  [Symbol.iterator](): Generator<unknown, T, unknown> {
    return this.#wait();
  }

  *#wait(): Generator<unknown, T, unknown> {
    if (this.#state === WAITING) {
      const co = yieldingSelf(this._what);
      if (this.#co !== null) throw new AioError('ERR_AIO_COROUTINE', `${this._what}: this waitable already has a waiting co-routine`);
      this.#co = co;
      let finished = false;
      try {
        // A stray enter() finds it still waiting and yields again.
        do yield;
        while (this.#state === WAITING);
        finished = true;
      } finally {
        this.#co = null;
        if (!finished) this.#abandon();
      }
    }
    if (this.#state !== GRANTED) throw this.#outcome;
    return this.#outcome as T;
  }
}

/** An intrusive FIFO of waiters: O(1) push, shift and remove. @internal */
export class WaiterList<W extends Waiter<void>> {
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

/**
 * Waits for `first`, then, however that ends, for the follow-up (`onOk` after success,
 * `onFail` after a failure or cancellation), and ends as `first` did. Used where the
 * caller must hold a lock again whatever happens (CoQueue.wait's relock, upgrade's
 * fallback to a read lock). A coroutine cancelled during either phase still waits for
 * the follow-up before its own `finally` blocks run. @internal
 */
export class Sequel implements Waitable<void> {
  readonly #first: Waitable<void>;
  readonly #onOk: (() => Waitable<void>) | null;
  readonly #onFail: (() => Waitable<void>) | null;
  #promise: Promise<void> | null = null;

  constructor(first: Waitable<void>, onOk: (() => Waitable<void>) | null, onFail: (() => Waitable<void>) | null) {
    this.#first = first;
    this.#onOk = onOk;
    this.#onFail = onFail;
  }

  then<R1 = void, R2 = never>(
    onFulfilled?: ((value: void) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.#promise ??= this.#run();
    return this.#promise.then(onFulfilled, onRejected);
  }

  async #run(): Promise<void> {
    let failed = false;
    let reason: unknown;
    try {
      await this.#first;
    } catch (e) {
      failed = true;
      reason = e;
    }
    const next = failed ? this.#onFail : this.#onOk;
    if (next !== null) await next();
    if (failed) throw reason;
  }

  *[Symbol.iterator](): Generator<unknown, void, unknown> {
    let state = 0; // 0 abandoned (return()), 1 ok, 2 threw
    let reason: unknown;
    try {
      yield* this.#first;
      state = 1;
    } catch (e) {
      state = 2;
      reason = e;
    } finally {
      if (state === 0 && this.#onFail !== null) yield* Sequel.#follow(this.#onFail);
    }
    const next = state === 1 ? this.#onOk : this.#onFail;
    if (next !== null) yield* Sequel.#follow(next);
    if (state === 2) throw reason;
  }

  /** Waits for `next()`; if cancelled meanwhile, waits for a fresh one before leaving. */
  static *#follow(next: () => Waitable<void>): Generator<unknown, void, unknown> {
    let done = false;
    try {
      yield* next();
      done = true;
    } finally {
      if (!done) yield* next();
    }
  }
}
