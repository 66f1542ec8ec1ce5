/**
 * CoMutex: QEMU's coroutine mutex (util/qemu-coroutine-lock.c) for coroutines and async
 * functions alike.
 *
 * Owns: the mutex state and its FIFO of waiters, and the hand-off rule. A lock that is
 * free is taken at once (`lock()` returns the shared ready waitable, nothing allocated).
 * A lock that is held queues the caller (an async caller without a signal as a light
 * waiter: only a promise, see waitable.ts). `unlock()` with waiters hands the lock straight
 * to the oldest one: the mutex never becomes free in between, so a `tryLock()` or a new
 * `lock()` right after the unlock cannot barge in ahead of the queue (QEMU's hand-off,
 * where `locked` never drops to zero while someone waits). A coroutine that receives the
 * lock runs by the wake-at-next-yield rule; an async function resumes a microtask later.
 *
 * Unlike QEMU, the holder is not tracked: any code in the thread may unlock a locked
 * CoMutex (an async holder has no identity to check). Unlocking a free one throws. A
 * shared one records the holder's thread, only so that a holder's death is seen
 * (shared-co-mutex.ts).
 */
import { AioError, OwnerDiedError, argTypeError, badHandle, describeValue } from '../base/errors.js';
import type { AbortSignalLike } from '../locks/futex.js';
import { checkSignal } from '../locks/handle.js';
import { type LockGuard, guardOfAsync, runExclusive } from '../locks/guard.js';
import { adoptWakeTable, tableFieldsProblem, wakeTable } from '../base/shared-memory.js';
import {
  type SharedTicket,
  SHARED_CO_MUTEX_BYTES,
  SharedCoMutex,
  sharedLockOrQueue,
  sharedLocked,
  sharedTryLock,
  sharedUnlock,
  sharedWaitForUnlock,
} from './shared-co-mutex.js';
import { Coroutine } from './coroutine.js';
import { type LightIterator, WaiterQueue, lightIterator } from './light-waiters.js';
import { READY, type Waitable, Waiter, type WaiterOwner, rejected } from './waitable.js';

/** The structured-cloneable form of a {@link CoMutex}. */
export interface CoMutexHandle {
  readonly kind: 'aio.CoMutex';
  readonly sab: SharedArrayBuffer;
  readonly table: SharedArrayBuffer;
}

/** Names the operation in a waiter's errors. */
const LOCK = 'CoMutex.lock()';

/**
 * A queued `lock()` of a shared mutex, as its waiter's owner: it waits in the shared
 * queue, not in `_waiters`.
 */
class SharedLockRequest implements WaiterOwner {
  readonly #mutex: CoMutex;
  /** How to take it back out of the shared queue; null once it was granted at once. */
  ticket: SharedTicket | null = null;
  /** True once it left the queue without being granted. */
  gone = false;
  constructor(mutex: CoMutex) {
    this.#mutex = mutex;
  }
  removeWaiter(): void {
    this.gone = true;
    this.ticket?.withdraw();
  }
  releaseGrant(): void {
    this.#mutex.unlock();
  }
}

/**
 * A fair (FIFO hand-off) mutex for coroutines and async functions of one thread:
 * `yield* m.lock()` in a coroutine, `await m.lock()` in an async function. All methods
 * are for the thread that created it.
 *
 * @example
 * ```ts
 * import { AioContext, CoMutex, Coroutine } from 'aio-node';
 *
 * const ctx = new AioContext();
 * const m = new CoMutex();
 * const co = Coroutine.create(function* () {
 *   yield* m.lock(); // a coroutine waits with yield*
 *   m.unlock();
 * });
 * await m.lock(); // an async function waits with await
 * ctx.coEnter(co); // ctx is not current: co starts in its next poll
 * ctx.poll(false); // co runs, and queues behind the async holder
 * m.unlock(); // FIFO hand-off: co holds it now
 * while (!co.done) ctx.poll(true);
 * ctx.close();
 * ```
 */
export class CoMutex {
  // In-thread state, used until the mutex is shared; then the state lives in shared
  // memory (shared-co-mutex.ts) and every thread, this one included, goes through it.
  #locked = false;
  #shared: { state: SharedCoMutex; handle: CoMutexHandle } | null = null;
  /** How a coroutine waits for one of this mutex's light waiters (waitable.ts). */
  #lightIterator: LightIterator | null = null;
  /** @internal The FIFO of waiters, coroutine and async ones together. */
  readonly _waiters = new WaiterQueue();
  /**
   * How a queued lock() of the private mutex leaves (a queued one, off `_waiters`; a
   * grant it will not use, unlocked again); made on first contention.
   */
  #owner: WaiterOwner | null = null;
  /** What resolves this thread's waitForUnlock() promises, while the mutex is private; null when none. */
  #watchers: (() => void)[] | null = null;

  /**
   * Takes the mutex, or queues for it (qemu_co_mutex_lock). The result is a waitable:
   * `yield*` it in a coroutine or `await` it. With `signal`, aborting while queued
   * leaves the queue and fails the wait with `signal.reason`; an already aborted signal
   * fails it without touching the mutex. A shared mutex whose holder's thread ended (or
   * that was handed to a queued waiter whose thread ended) passes to the next waiter,
   * whose wait fails with OwnerDiedError while it holds the mutex: repair, then
   * `unlock()`, as after `Mutex.lock()`. This thread.
   */
  lock(signal?: AbortSignalLike): Waitable<void> {
    // Free, private and without a signal first: on JSC that order kept the uncontended
    // `yield* m.lock()` 8 % faster than testing the rare cases first. The signal and the
    // shared mutex are off the path inlined into callers (the inlining budget is per
    // function).
    if (!this.#locked && signal === undefined && this.#shared === null) {
      this.#locked = true;
      return READY;
    }
    if (signal !== undefined || this.#shared !== null) return this.#lockChecked(signal);
    // An async caller's light waiter is made here, not a call further down: on JSC that
    // call cost the contended `await m.lock()` 8 %.
    if (!Coroutine.inCoroutine()) return this._waiters.pushLight((this.#lightIterator ??= lightIterator(this, LOCK)));
    return this.#queue(undefined, true);
  }

  /** lock() with a signal, or of a shared mutex. */
  #lockChecked(signal: AbortSignalLike | undefined): Waitable<void> {
    if (signal !== undefined) {
      checkSignal('signal', signal);
      if (signal.aborted) return rejected(signal.reason);
    }
    const shared = this.#shared;
    if (shared !== null) return this.#lockShared(shared.state, signal);
    if (!this.#locked) {
      this.#locked = true;
      return READY;
    }
    // `signal` is set here: without one, only a shared mutex comes this way.
    return this.#queue(signal, Coroutine.inCoroutine());
  }

  /**
   * Queues a Waiter for a lock() of the private mutex, which is held: one with a signal,
   * or one in a coroutine (`inCoroutine`).
   */
  #queue(signal: AbortSignalLike | undefined, inCoroutine: boolean): Waitable<void> {
    const w = new Waiter<void>((this.#owner ??= this.#waiterOwner()), LOCK, signal);
    this._waiters.push(w);
    return w._waitable(inCoroutine);
  }

  #waiterOwner(): WaiterOwner {
    return { removeWaiter: (w) => this._waiters.remove(w), releaseGrant: () => this.unlock() };
  }

  #lockShared(state: SharedCoMutex, signal: AbortSignalLike | undefined): Waitable<void> {
    if (sharedTryLock(state)) return READY;
    const req = new SharedLockRequest(this);
    const w = new Waiter<void>(req, LOCK, signal);
    // The grant arrives in this thread's current context's poll; a waiter that left
    // meanwhile passes the mutex on (also one taken over from a dead holder).
    req.ticket = sharedLockOrQueue(state, (outcome) => {
      if (outcome instanceof Error) {
        if (!req.gone) w._grantFailing(outcome);
      } else if (req.gone) sharedUnlock(state, outcome);
      else if (outcome) w._grantFailing(new OwnerDiedError('CoMutex'));
      else w._grant(undefined);
    });
    if (req.ticket === null) return READY;
    return w._waitable();
  }

  /**
   * Structured-cloneable handle: `CoMutex.from(handle)` in another thread gives the same
   * mutex, with one FIFO of waiters across threads; a waiter resumes in its own thread's
   * context. Taking the handle moves the mutex to shared memory, so it must then be free
   * with nobody queued (else ERR_AIO_BUSY). This thread.
   */
  get handle(): CoMutexHandle {
    if (this.#shared) return this.#shared.handle;
    if (!this._waiters.empty || this.#watchers !== null) {
      throw new AioError('ERR_AIO_BUSY', 'CoMutex.handle: the mutex has waiters; share it before it is contended');
    }
    const table = wakeTable();
    const state = SharedCoMutex.alloc(this.#locked, table);
    const handle: CoMutexHandle = Object.freeze({ kind: 'aio.CoMutex', sab: state.f.mem.buffer as SharedArrayBuffer, table: table.sab });
    this.#shared = { state, handle };
    return handle;
  }

  /** The same mutex in this thread, from a handle another thread sent. Any thread. */
  static from(handle: CoMutexHandle): CoMutex {
    const h = handle as Partial<CoMutexHandle> | null;
    if (typeof h !== 'object' || h === null) throw argTypeError('handle', 'a CoMutex handle', handle);
    const problem =
      h.kind !== 'aio.CoMutex'
        ? `its kind is ${describeValue(h.kind)}, not 'aio.CoMutex'`
        : !(h.sab instanceof SharedArrayBuffer) || h.sab.byteLength < SHARED_CO_MUTEX_BYTES
          ? `its "sab" is ${describeValue(h.sab)}, not a SharedArrayBuffer of at least ${SHARED_CO_MUTEX_BYTES} bytes`
          : tableFieldsProblem(h, false);
    if (problem !== null) throw badHandle('CoMutex.from()', 'aio.CoMutex', problem);
    const m = new CoMutex();
    const state = new SharedCoMutex(new Int32Array(h.sab as SharedArrayBuffer), adoptWakeTable(h.table as SharedArrayBuffer));
    m.#shared = { state, handle: h as CoMutexHandle };
    return m;
  }

  /**
   * Takes the mutex if it is free; never waits. Fails while anyone is queued, since the
   * mutex then stays held through each hand-off. This thread.
   */
  tryLock(): boolean {
    if (this.#shared) return sharedTryLock(this.#shared.state);
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
    if (this.#shared) return sharedUnlock(this.#shared.state);
    if (!this.#locked) throw new AioError('ERR_AIO_NOT_OWNER', 'CoMutex.unlock(): the mutex is not locked');
    if (this._waiters.grantNext()) return;
    this.#locked = false;
    if (this.#watchers !== null) this.#freed();
  }

  /** The mutex became free: its waitForUnlock() promises resolve. */
  #freed(): void {
    const watchers = this.#watchers!;
    this.#watchers = null;
    for (const resolve of watchers) resolve();
  }

  /** True while held (by anyone), as the `locked` getter. This thread. */
  isLocked(): boolean {
    return this.locked;
  }

  /**
   * Resolves once the mutex is free, without taking it (at once if it is free now).
   * "Free" means unlocked with nobody queued: with FIFO hand-off the mutex stays locked
   * from each queued waiter to the next, so this resolves at the unlock of the last
   * holder of a drained queue, and not at all while lockers keep queuing. It is an
   * instant: by the time the caller runs, someone may hold the mutex again. A shared
   * mutex is watched across threads (it resolves when it is seen free; one whose holder
   * died stays locked until a queued locker's context hands it on). If `signal` aborts
   * first, rejects with `signal.reason`. This thread.
   */
  waitForUnlock(signal?: AbortSignalLike): Promise<void> {
    if (signal !== undefined) {
      checkSignal('signal', signal);
      if (signal.aborted) return Promise.reject(signal.reason);
    }
    if (this.#shared !== null) return sharedWaitForUnlock(this.#shared.state, signal);
    if (!this.#locked) return Promise.resolve();
    const watchers = (this.#watchers ??= []);
    return new Promise<void>((resolve, reject) => {
      if (signal === undefined) return void watchers.push(resolve);
      const onAbort = () => {
        watchers.splice(watchers.indexOf(done), 1);
        if (watchers.length === 0 && this.#watchers === watchers) this.#watchers = null;
        reject(signal.reason);
      };
      const done = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      watchers.push(done);
    });
  }

  /**
   * Runs `fn` holding the mutex: `await lock(signal)`, then `fn()` (sync or async), then
   * `unlock()` however `fn` ends. Resolves with `fn`'s result, rejects with what it
   * throws. If `signal` aborts while queued, rejects with `signal.reason` without running
   * `fn`. A shared mutex taken over from a dead holder is released again and this rejects
   * with AioError 'ERR_AIO_OWNER_DIED' (the OwnerDiedError as its `cause`) without running
   * `fn` (to repair under the lock, use `lock()`). For async code; in a coroutine, use
   * `yield* m.lock()`. This thread.
   */
  runExclusive<T>(fn: () => T | PromiseLike<T>, signal?: AbortSignalLike): Promise<Awaited<T>> {
    return runExclusive(this, 'CoMutex.runExclusive()', () => this.lock(signal), fn);
  }

  /**
   * Locks as `await lock(signal)` does and resolves with a guard for
   * `await using g = await m.lockGuardAsync()`: the mutex is unlocked when the scope ends
   * (or at `g.release()`). A holder that died is reported as by `runExclusive()`. This
   * thread.
   */
  lockGuardAsync(signal?: AbortSignalLike): Promise<LockGuard> {
    return guardOfAsync(this, 'CoMutex.lockGuardAsync()', this.lock(signal));
  }

  /** True while held (by anyone; qemu_co_mutex_assert_locked's question). This thread. */
  get locked(): boolean {
    if (this.#shared) return sharedLocked(this.#shared.state);
    return this.#locked;
  }
}
