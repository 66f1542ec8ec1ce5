/**
 * Light waiters: an async caller of `CoMutex.lock()` without a signal can be neither
 * cancelled nor woken by anything but the grant, so instead of a Waiter the queue holds
 * its promise's resolve function, and the promise carries the lock's iterator for light
 * waiters (see waitable.ts for the whole scheme). Owns that iterator and `WaiterQueue`,
 * the FIFO of Waiters and light waiters. This thread only.
 */
import { Fifo } from '../base/fifo.js';
import { yieldingSelf } from './coroutine.js';
import { type Waitable, type Waiter, ignore, secondWaiter } from './waitable.js';

// A light waiter's promise is never rejected: its executor keeps only the resolve
// function (measured: 3-8 % of a contended hand-off on V8 and JSC). One shared executor
// hands it out: no closure per promise.
let takenResolve: (value: never) => void = ignore;
function takeResolve(resolve: (value: never) => void): void {
  takenResolve = resolve;
}

/** What a lock's light waiters give back an unused grant to. @internal */
export interface Unlockable {
  unlock(): void;
}

/** The iterator a light waiter's promise carries. @internal */
export type LightIterator = (this: Promise<void>) => Generator<unknown, void, unknown>;

/**
 * The iterator of `lock`'s light waiters' promises (`what` names the operation): waits
 * for the grant (the promise) and hands an unused one back. One per lock, made on its
 * first contention, so a light waiter costs its promise and one property. @internal
 */
export function lightIterator(lock: Unlockable, what: string): LightIterator {
  return function* waitLight(this: Promise<void> & { [LIGHT_CONSUMER]?: true }): Generator<unknown, void, unknown> {
    const co = yieldingSelf(what);
    if (this[LIGHT_CONSUMER]) throw secondWaiter(what);
    this[LIGHT_CONSUMER] = true;
    let granted = false;
    let waiting = true;
    this.then(() => {
      granted = true;
      if (!waiting) return;
      try {
        co._wakeWaiting();
      } catch (e) {
        // It cannot run (its context is closed): cancel it, which passes the grant on.
        co.cancel(e);
      }
    });
    let finished = false;
    try {
      // A stray enter() finds it still waiting and yields again.
      do yield;
      while (!granted);
      finished = true;
    } finally {
      waiting = false;
      if (!finished) {
        if (granted) lock.unlock();
        else this.then(() => lock.unlock());
      }
    }
  };
}

/** Set on a light waiter's promise once a coroutine waits for it with `yield*`. */
const LIGHT_CONSUMER = Symbol('aio.lightConsumer');

type Queued = Waiter<void> | ((value: void) => void);

/**
 * A FIFO of Waiters and light waiters (CoMutex's). A waiter that leaves is only marked
 * (its state) and skipped when it reaches the head; once such waiters are most of the
 * queue, they are dropped, so a queue of waiters that keep timing out does not grow.
 * @internal
 */
export class WaiterQueue extends Fifo<Queued> {
  /** Waiters that left and still sit in the queue. */
  #left = 0;

  get empty(): boolean {
    return this.length === this.#left;
  }

  /** Queues a light waiter and returns its promise (see the file comment of waitable.ts). */
  pushLight(iterator: LightIterator): Waitable<void> {
    const p = new Promise<void>(takeResolve) as Promise<void> & Waitable<void>;
    this.push(takenResolve as (value: void) => void);
    takenResolve = ignore;
    p[Symbol.iterator] = iterator;
    return p;
  }

  /** `w`, still in the queue, is leaving it (from its `_remove()`). */
  remove(w: Waiter<void>): void {
    ++this.#left;
    // Drop the departed once nobody else is left (so none stays referenced by an idle or
    // shared mutex), or once they are most of a long queue.
    if (this.#left === this.length || (this.#left >= 32 && this.#left * 2 >= this.length)) {
      this.retain((q) => typeof q === 'function' || (q !== w && q._waiting));
      this.#left = 0;
    }
  }

  /** Grants the oldest waiter still queued; false when there is none. */
  grantNext(): boolean {
    for (;;) {
      const q = this.shift();
      if (q === undefined) return false;
      if (typeof q === 'function') {
        q();
        return true;
      }
      if (q._waiting) {
        q._grant(undefined);
        return true;
      }
      this.#left--;
    }
  }
}
