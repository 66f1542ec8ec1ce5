/**
 * CoQueue: QEMU's queue of waiting coroutines (include/qemu/coroutine.h), "similar to
 * condition variables, but they need help from an external mutex", for coroutines and
 * async functions alike.
 *
 * Owns: the FIFO of waiters and the wait/relock protocol. `wait(lock)` queues the caller,
 * releases `lock`, and once woken takes `lock` again before it returns. `next()` wakes
 * the oldest waiter: a coroutine by the wake-at-next-yield rule (from a coroutine, it
 * runs when the caller yields; from outside, at once), an async function a microtask
 * later. As in QEMU there is no wait morphing: woken waiters compete for the lock.
 *
 * Cancellation: a waiter whose signal aborts, or whose coroutine is cancelled, leaves
 * the queue and still retakes `lock` before the failure reaches it, so the caller holds
 * the lock in every outcome, as after pthread_cond_wait. A waiter that was woken but
 * cancelled before it ran passes the wake-up on to the next waiter, so it is not lost.
 */
import { argTypeError } from '../base/errors.js';
import type { AbortSignalLike } from '../locks/futex.js';
import { checkSignal } from '../locks/handle.js';
import { Sequel } from './sequel.js';
import { type CoLockable, type Waitable, type WaiterOwner, ListedWaiter, WaiterList, rejected } from './waitable.js';

type QueueWaiter = ListedWaiter<void>;

function isLockable(v: unknown): v is CoLockable {
  return typeof v === 'object' && v !== null && typeof (v as CoLockable).lock === 'function' && typeof (v as CoLockable).unlock === 'function';
}

/**
 * A queue of waiting coroutines and async functions of one thread (CoQueue). Methods are
 * for the thread that created it.
 *
 * @example
 * ```ts
 * import { CoMutex, CoQueue } from 'aio-node';
 *
 * const m = new CoMutex();
 * const notEmpty = new CoQueue();
 * const items: number[] = [];
 * async function take(): Promise<number> {
 *   await m.lock();
 *   while (items.length === 0) await notEmpty.wait(m); // releases m while waiting
 *   const item = items.shift()!;
 *   m.unlock();
 *   return item;
 * }
 * const taken = take();
 * await m.lock();
 * items.push(1);
 * notEmpty.next(); // wakes the oldest waiter
 * m.unlock();
 * console.log(await taken); // 1
 * ```
 */
export class CoQueue {
  /** @internal */
  readonly _waiters = new WaiterList<QueueWaiter>();
  /** How a waiter leaves: off `_waiters`; a wake-up it will not use goes to the next one. */
  readonly #owner: WaiterOwner = {
    removeWaiter: (w) => this._waiters.remove(w as QueueWaiter),
    releaseGrant: () => void this.next(),
  };

  /**
   * Queues the caller at the tail, releases `lock` (a CoMutex, or anything with
   * `lock()`/`unlock()`; omit it for none), waits for `next()`/`restartAll()`, then takes
   * `lock` again (qemu_co_queue_wait). The caller must hold `lock`. With `signal`,
   * aborting while queued ends the wait with `signal.reason` (after retaking `lock`); an
   * already aborted signal fails at once and leaves `lock` alone. This thread.
   */
  wait(lock?: CoLockable | null, signal?: AbortSignalLike): Waitable<void> {
    if (lock !== undefined && lock !== null && !isLockable(lock)) {
      throw argTypeError('lock', 'a CoMutex (an object with lock() and unlock()), null or undefined', lock);
    }
    checkSignal('signal', signal);
    if (signal?.aborted) return rejected(signal.reason);
    const w: QueueWaiter = new ListedWaiter(this.#owner, 'CoQueue.wait()', signal);
    this._waiters.push(w);
    if (lock == null) return w._waitable();
    // Queued before the unlock, as in QEMU: whoever the unlock lets run may call next().
    try {
      lock.unlock();
    } catch (e) {
      w._withdraw(e);
      throw e;
    }
    const relock = () => lock.lock();
    return new Sequel(w, relock, relock);
  }

  /**
   * Wakes the oldest waiter (qemu_co_queue_next / qemu_co_enter_next); returns false
   * when nobody waits. A coroutine woken from a coroutine runs after the caller yields;
   * from outside coroutines, before this returns. This thread.
   */
  next(): boolean {
    const w = this._waiters.shift();
    if (w === null) return false;
    w._grant(undefined);
    return true;
  }

  /**
   * Wakes everyone waiting now (qemu_co_queue_restart_all). Waiters that queue again
   * while being woken wait for the next call, so this always ends. This thread.
   */
  restartAll(): void {
    for (const w of this._waiters.takeAll()) w._grant(undefined);
  }

  /** True when nobody waits (qemu_co_queue_empty). This thread. */
  empty(): boolean {
    return this._waiters.empty;
  }
}
