/**
 * CoMutex: QEMU's coroutine mutex (util/qemu-coroutine-lock.c) for coroutines and async
 * functions alike.
 *
 * Owns: the mutex state and its FIFO of waiters, and the hand-off rule. A lock that is
 * free is taken at once (`lock()` returns the shared ready waitable, nothing allocated).
 * A lock that is held queues the caller. `unlock()` with waiters hands the lock straight
 * to the oldest one: the mutex never becomes free in between, so a `tryLock()` or a new
 * `lock()` right after the unlock cannot barge in ahead of the queue (QEMU's hand-off,
 * where `locked` never drops to zero while someone waits). A coroutine that receives the
 * lock runs by the wake-at-next-yield rule; an async function resumes a microtask later.
 *
 * Unlike QEMU, the holder is not tracked: any code in the thread may unlock a locked
 * CoMutex (an async holder has no identity to check). Unlocking a free one throws.
 */
import { AioError } from '../errors.js';
import type { AbortSignalLike } from '../locks/futex.js';
import { checkSignal } from '../locks/handle.js';
import { READY, type Waitable, Waiter, WaiterList, rejected } from './waitable.js';

/** A queued `lock()`. */
class MutexWaiter extends Waiter<void> {
  readonly #mutex: CoMutex;
  constructor(mutex: CoMutex, signal: AbortSignalLike | undefined) {
    super('CoMutex.lock()', signal);
    this.#mutex = mutex;
  }
  protected _remove(): void {
    this.#mutex._waiters.remove(this);
  }
  protected _release(): void {
    this.#mutex.unlock();
  }
}

/**
 * A fair (FIFO hand-off) mutex for coroutines and async functions of one thread:
 * `yield* m.lock()` in a coroutine, `await m.lock()` in an async function. All methods
 * are for the thread that created it.
 */
export class CoMutex {
  // In-thread state. Cross-thread use (through a handle, by the main engineer) puts the
  // lock word and the waiter count in shared memory here, QEMU-style: `locked` = 1 +
  // number of lockers, a lock-free push list of remote waiters, and the hand-off /
  // sequence words; remote waiters are woken by scheduling on their own context.
  #locked = false;
  /** @internal The FIFO of waiters, coroutine and async ones together. */
  readonly _waiters = new WaiterList<MutexWaiter>();

  /**
   * Takes the mutex, or queues for it (qemu_co_mutex_lock). The result is a waitable:
   * `yield*` it in a coroutine or `await` it. With `signal`, aborting while queued
   * leaves the queue and fails the wait with `signal.reason`; an already aborted signal
   * fails it without touching the mutex. This thread.
   */
  lock(signal?: AbortSignalLike): Waitable<void> {
    if (signal !== undefined) {
      checkSignal('signal', signal);
      if (signal.aborted) return rejected(signal.reason);
    }
    if (!this.#locked) {
      this.#locked = true;
      return READY;
    }
    const w = new MutexWaiter(this, signal);
    this._waiters.push(w);
    return w._waitable();
  }

  /**
   * Takes the mutex if it is free; never waits. Fails while anyone is queued, since the
   * mutex then stays held through each hand-off. This thread.
   */
  tryLock(): boolean {
    if (this.#locked) return false;
    this.#locked = true;
    return true;
  }

  /**
   * Releases the mutex, handing it to the oldest waiter if there is one
   * (qemu_co_mutex_unlock). Throws AioError 'ERR_AIO_NOT_OWNER' when it is not locked.
   * This thread.
   */
  unlock(): void {
    if (!this.#locked) throw new AioError('ERR_AIO_NOT_OWNER', 'CoMutex.unlock(): the mutex is not locked');
    const w = this._waiters.shift();
    if (w === null) this.#locked = false;
    else w._grant(undefined);
  }

  /** True while held (by anyone; qemu_co_mutex_assert_locked's question). This thread. */
  get locked(): boolean {
    return this.#locked;
  }
}
