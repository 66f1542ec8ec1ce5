/**
 * CoRwLock: QEMU's fair coroutine reader/writer lock (CoRwlock in
 * util/qemu-coroutine-lock.c) for coroutines and async functions alike.
 *
 * Owns: the owner count and the ticket queue. `owners` is the number of readers, or -1
 * for a writer. Requests that cannot be served at once take a ticket in one FIFO, readers
 * and writers together, so neither side starves: a reader arriving while a writer waits
 * queues behind it. When the lock is released, tickets are served from the head: a
 * writer when nobody holds the lock, readers (all consecutive ones) while no writer
 * does. Owners are counted before the waiters are woken, so nobody slips in between.
 *
 * QEMU guards this state with an internal CoMutex because its coroutines run on many
 * threads; here every operation runs to completion in one thread, so it needs none.
 * QEMU wakes one reader and lets each woken reader wake the next; serving the run of
 * readers at once is the same outcome without the relay.
 */
import { AioError } from '../base/errors.js';
import type { AbortSignalLike } from '../locks/futex.js';
import { checkSignal } from '../locks/handle.js';
import { Sequel } from './sequel.js';
import { READY, type Waitable, type WaiterOwner, ListedWaiter, WaiterList, rejected } from './waitable.js';

/** A ticket (CoRwTicket): a queued read or write request. */
class RwTicket extends ListedWaiter<void> {
  readonly read: boolean;
  constructor(owner: WaiterOwner, read: boolean, what: string, signal: AbortSignalLike | undefined) {
    super(owner, what, signal);
    this.read = read;
  }
}

function notHeld(what: string, how: string): AioError {
  return new AioError('ERR_AIO_NOT_OWNER', `${what}: the lock is not ${how}`);
}

function checkOptionalSignal(signal: unknown): AbortSignalLike | undefined {
  checkSignal('signal', signal);
  return signal;
}

/**
 * A fair reader/writer lock for coroutines and async functions of one thread. Waiting
 * operations return waitables (`yield*` or `await` them). Methods are for the thread
 * that created it.
 *
 * @example
 * ```ts
 * import { CoRwLock } from 'aio-node';
 *
 * const rw = new CoRwLock();
 * await rw.rdlock(); // readers share it
 * await rw.upgrade(); // the only reader becomes the writer
 * rw.downgrade(); // and a reader again
 * rw.unlock();
 * ```
 */
export class CoRwLock {
  /** Readers holding the lock, or -1 for a writer (CoRwlock.owners). */
  #owners = 0;
  readonly #tickets = new WaiterList<RwTicket>();
  /**
   * How a ticket leaves: a queued one that gave up is dropped (the new head may be
   * servable now); a grant it will not use is unlocked.
   */
  readonly #owner: WaiterOwner = {
    removeWaiter: (t) => {
      this.#tickets.remove(t as RwTicket);
      this.#wakeWaiters();
    },
    releaseGrant: () => this.unlock(),
  };

  /**
   * Takes a read lock, or queues for one (qemu_co_rwlock_rdlock): served at once when
   * the lock is free, or read-held with nobody queued. With `signal`, aborting while
   * queued fails the wait with `signal.reason`. This thread.
   */
  rdlock(signal?: AbortSignalLike): Waitable<void> {
    if (checkOptionalSignal(signal)?.aborted) return rejected(signal!.reason);
    if (this.#owners === 0 || (this.#owners > 0 && this.#tickets.empty)) {
      this.#owners++;
      return READY;
    }
    return this.#enqueue(true, 'CoRwLock.rdlock()', signal)._waitable();
  }

  /**
   * Takes the write lock, or queues for it (qemu_co_rwlock_wrlock). With `signal`,
   * aborting while queued fails the wait with `signal.reason`. This thread.
   */
  wrlock(signal?: AbortSignalLike): Waitable<void> {
    if (checkOptionalSignal(signal)?.aborted) return rejected(signal!.reason);
    if (this.#owners === 0) {
      this.#owners = -1;
      return READY;
    }
    return this.#enqueue(false, 'CoRwLock.wrlock()', signal)._waitable();
  }

  /**
   * Releases a read or the write lock (qemu_co_rwlock_unlock) and serves the queue.
   * Throws ERR_AIO_NOT_OWNER when the lock is not held. This thread.
   */
  unlock(): void {
    if (this.#owners > 0) this.#owners--;
    else if (this.#owners === -1) this.#owners = 0;
    else throw notHeld('CoRwLock.unlock()', 'held');
    this.#wakeWaiters();
  }

  /**
   * Turns the caller's read lock into the write lock (qemu_co_rwlock_upgrade). The only
   * reader with nobody queued gets it at once; otherwise the caller gives up its read
   * lock and queues as a writer, so another writer may run before it. If the wait fails
   * (signal) or its coroutine is cancelled, the caller takes a read lock again before
   * the failure reaches it, so it holds a read lock in every outcome but success. Throws
   * ERR_AIO_NOT_OWNER when the lock is not read-held. This thread.
   */
  upgrade(signal?: AbortSignalLike): Waitable<void> {
    checkOptionalSignal(signal);
    if (this.#owners <= 0) throw notHeld('CoRwLock.upgrade()', 'read-held');
    if (signal?.aborted) return rejected(signal.reason);
    if (this.#owners === 1 && this.#tickets.empty) {
      this.#owners = -1;
      return READY;
    }
    this.#owners--;
    const t = this.#enqueue(false, 'CoRwLock.upgrade()', signal);
    this.#wakeWaiters();
    return new Sequel(t, null, () => this.rdlock());
  }

  /**
   * Turns the caller's write lock into a read lock and admits the readers queued at the
   * head (qemu_co_rwlock_downgrade); never waits. Throws ERR_AIO_NOT_OWNER when the
   * lock is not write-held. This thread.
   */
  downgrade(): void {
    if (this.#owners !== -1) throw notHeld('CoRwLock.downgrade()', 'write-held');
    this.#owners = 1;
    this.#wakeWaiters();
  }

  /** Readers holding the lock, -1 when a writer does, 0 when free. This thread. */
  get owners(): number {
    return this.#owners;
  }

  #enqueue(read: boolean, what: string, signal: AbortSignalLike | undefined): RwTicket {
    const t = new RwTicket(this.#owner, read, what, signal);
    this.#tickets.push(t);
    return t;
  }

  /** qemu_co_rwlock_maybe_wake_one, run until the head ticket cannot be served. */
  #wakeWaiters(): void {
    for (;;) {
      const t = this.#tickets.head;
      if (t === null) return;
      if (t.read) {
        if (this.#owners < 0) return;
        this.#owners++;
      } else {
        if (this.#owners !== 0) return;
        this.#owners = -1;
      }
      this.#tickets.shift();
      t._grant(undefined);
      if (!t.read) return;
    }
  }
}
