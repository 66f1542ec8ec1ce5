/**
 * Sequel: a waitable that waits for one waitable, then for a follow-up. This thread only.
 */
import type { Waitable } from './waitable.js';

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
