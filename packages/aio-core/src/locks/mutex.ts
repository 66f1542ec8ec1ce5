/**
 * Mutex: QEMU's QemuMutex (an error-checking mutex) in shared memory.
 *
 * Owns: the mutex algorithm (Drepper, "Futexes Are Tricky", the three-state mutex) and
 * the owner word, used both by `Mutex` and, for its lock word, by `RecMutex` and `Cond`.
 *
 * Words (from the handle's index):
 *   0 state  FREE 0, LOCKED 1 (held, nobody waits), CONTENDED 2 (held, someone may wait);
 *            the futex word waiters sleep on
 *   1 owner  threadId() of the holder, 0 when free; written only by the holder, right
 *            after acquiring and right before releasing, so plain accesses suffice
 *
 * Error checking as PTHREAD_MUTEX_ERRORCHECK: unlock by a thread that does not hold the
 * mutex, or of a free mutex, throws ERR_AIO_NOT_OWNER; a blocking lock() by the holder
 * (which would deadlock) throws ERR_AIO_LOCK_ORDER. The owner word is also where a
 * waiter looks for a dead owner (robust.ts).
 */
import { type FreeStep, type LockStep, RobustLock } from './robust.js';
import { AioError } from '../base/errors.js';
import { type LockGuard, guardOf, guardOfAsync, runExclusive } from './guard.js';
import type { AbortSignalLike, FutexOps } from './futex.js';
import { type LockHandle, checkMs, fromHandle, lockKind } from './handle.js';
import { threadId } from './thread-id.js';

/** Word offsets and values of the mutex layout. @internal */
const MutexWord = { State: 0, Owner: 1, Size: 2 } as const;

const FREE = 0;
const LOCKED = 1;
const CONTENDED = 2;
/** The values of the state word, for lock classes whose uncontended path writes the words directly (rec-mutex.ts). @internal */
export const MutexValue = { Free: FREE, Locked: LOCKED, Contended: CONTENDED } as const;
const OWNER = 1;

/** @internal */
export function notOwnerError(what: string): AioError {
  return new AioError('ERR_AIO_NOT_OWNER', `${what}: the calling thread does not hold this lock (or it is not locked)`);
}

/** @internal */
export function selfDeadlockError(what: string): AioError {
  return new AioError('ERR_AIO_LOCK_ORDER', `${what}: the calling thread already holds this lock; waiting for it would deadlock`);
}

// ---------------------------------------------------------------------------------------
// Algorithm (state word at `b`, owner word at `b + 1`). Deterministic, see futex.ts.

/**
 * Takes the lock word at `b` when it is held (`c` is the value the failed fast path
 * saw). Returns false if a cancellable wait gave up; the state stays consistent: at worst
 * it is CONTENDED with nobody waiting, which costs the next unlock a useless notify.
 * @internal
 */
export function mutexAcquireContended(f: FutexOps, b: number, c: number, cancellable: boolean): boolean {
  // From here on we may have company, so we only ever install CONTENDED: a waiter that got
  // the lock cannot know whether others still sleep, and its unlock must wake them.
  // Pairs with the exchange in mutexRelease(): whichever comes second sees the other.
  if (c !== CONTENDED) c = f.exchange(b, CONTENDED);
  while (c !== FREE) {
    // Sleeps only while the word is still CONTENDED; pairs with the notify in mutexRelease().
    if (f.wait(b, CONTENDED, cancellable) === 'timed-out') {
      // We may have been the waiter mutexRelease() woke (an abort can land after the
      // wake-up): pass the wake-up on so a sleeper is not left behind a free lock.
      f.notify(b, 1);
      return false;
    }
    c = f.exchange(b, CONTENDED);
  }
  return true;
}

/** Takes the lock word (no owner bookkeeping): for RecMutex. @internal */
export function mutexAcquire(f: FutexOps, b: number, cancellable: boolean): boolean {
  // Pairs with the exchange in mutexRelease().
  const c = f.compareExchange(b, FREE, LOCKED);
  return c === FREE || mutexAcquireContended(f, b, c, cancellable);
}

/** Releases the lock word, waking one waiter if there may be one. @internal */
export function mutexRelease(f: FutexOps, b: number): void {
  // Pairs with the compareExchange/exchange of the acquirers and their wait on CONTENDED.
  if (f.exchange(b, FREE) === CONTENDED) f.notify(b, 1);
}

/**
 * Waits until the lock word at `b` is FREE, taking nothing (waitForUnlock). Returns false
 * if a cancellable wait gave up. Free means FREE seen at one instant: this mutex has no
 * queue, so a locker may take it right after. @internal
 */
export function mutexAwaitFree(f: FutexOps, b: number, cancellable: boolean): boolean {
  let c = f.load(b);
  for (;;) {
    if (c === FREE) return true;
    if (c === LOCKED) {
      // A holder that saw nobody waiting does not notify on release: mark the word
      // CONTENDED first, as a locker would. Pairs with the exchange in mutexRelease().
      c = f.compareExchange(b, LOCKED, CONTENDED);
      if (c !== LOCKED) continue;
    }
    const r = f.wait(b, CONTENDED, cancellable);
    c = f.load(b);
    if (r === 'not-equal') continue;
    // mutexRelease() wakes one sleeper, and it may have picked this one over a locker:
    // pass the wake-up on when leaving. Staying (the lock was retaken) passes nothing, or
    // two such waiters would wake each other for as long as the lock is held; the retaker
    // released it CONTENDED (a woken locker) or this waiter marks it so again, so its
    // unlock wakes someone.
    if (r === 'timed-out') {
      f.notify(b, 1);
      return false;
    }
    if (c === FREE) {
      f.notify(b, 1);
      return true;
    }
  }
}

/**
 * Locks the mutex at `b` for thread `me`. Returns false if a cancellable wait gave up.
 * `sameThreadMayWait` is true for the async form: another task of this thread may hold
 * the mutex and will release it, so waiting is not a deadlock. @internal
 */
export function mutexLock(f: FutexOps, b: number, me: number, sameThreadMayWait: boolean, cancellable: boolean): boolean {
  // Uncontended path: one compareExchange and one plain store.
  const c = f.compareExchange(b, FREE, LOCKED);
  if (c !== FREE) {
    if (!sameThreadMayWait && f.read(b + OWNER) === me) throw selfDeadlockError('Mutex.lock()');
    if (!mutexAcquireContended(f, b, c, cancellable)) return false;
  }
  f.write(b + OWNER, me);
  return true;
}

/** Locks the mutex at `b` if it is free. @internal */
function mutexTryLock(f: FutexOps, b: number, me: number): boolean {
  if (f.compareExchange(b, FREE, LOCKED) !== FREE) return false;
  f.write(b + OWNER, me);
  return true;
}

/** Unlocks the mutex at `b`; throws ERR_AIO_NOT_OWNER unless `me` holds it. @internal */
export function mutexUnlock(f: FutexOps, b: number, me: number, what: string): void {
  // A thread reads its own id here only if its own last write put it there (it clears the
  // word before releasing), so this plain read is exact for the caller.
  if (f.read(b + OWNER) !== me) throw notOwnerError(what);
  f.write(b + OWNER, 0);
  mutexRelease(f, b);
}

// ---------------------------------------------------------------------------------------
// Class

/** The structured-cloneable form of a {@link Mutex}. */
export type MutexHandle = LockHandle<'aio.Mutex'>;

const MUTEX = lockKind('Mutex', MutexWord.Size);
/** The contended path of lock() and timedLock(). */
const lockStep: LockStep = (f, b, me) => mutexLock(f, b, me, false, true);
/** The wait of waitForUnlock(), for Mutex and RecMutex. @internal */
export const freeStep: FreeStep = (f, b) => mutexAwaitFree(f, b, true);

/**
 * A mutual-exclusion lock in shared memory (QemuMutex), usable from every thread that has
 * its handle. Not recursive; error-checking. Any thread.
 *
 * @example
 * ```ts
 * import { Mutex } from 'aio-node';
 *
 * const m = new Mutex(); // send m.handle to other threads: Mutex.from(handle) there
 * m.lock(); // blocks while another thread holds it
 * try {
 *   // ... the critical section
 * } finally {
 *   m.unlock();
 * }
 * await m.lockAsync(AbortSignal.timeout(100)); // never blocks the thread
 * m.unlock();
 * ```
 */
export class Mutex extends RobustLock<'aio.Mutex'> {
  /** The lock's words (`_f.mem`), held directly for the fast paths. */
  readonly #mem: Int32Array;

  /** Creates a free mutex in new shared memory. Any thread. */
  constructor() {
    super(MUTEX, MutexWord.Owner);
    this.#mem = this._f.mem;
  }

  /**
   * Rebuilds a mutex from its handle; throws ERR_AIO_BAD_HANDLE if `handle` is not a Mutex
   * handle. Any thread.
   */
  static from(handle: MutexHandle): Mutex {
    return fromHandle(MUTEX, handle, () => new Mutex());
  }

  /**
   * Locks, blocking while another thread holds it (qemu_mutex_lock). If the holder ended
   * without unlocking (robust.ts), throws OwnerDiedError (ERR_AIO_OWNER_DIED) within about
   * ROBUST_CHECK_MS of the end being recorded, and the caller then holds the mutex: repair
   * what it protects, then unlock. Throws ERR_AIO_LOCK_ORDER if this thread holds it
   * already, and ERR_AIO_CANNOT_BLOCK if it would have to wait in a thread that may not
   * block (use `lockAsync` there). Any thread.
   */
  lock(): void {
    // The uncontended path of mutexLock() written on the words directly: the same
    // compareExchange (pairs with the exchange in mutexRelease()) and owner store, without
    // the FutexOps indirection that the model checker needs and the hot path does not.
    const mem = this.#mem;
    const b = this._b;
    if (Atomics.compareExchange(mem, b, FREE, LOCKED) === FREE) {
      mem[b + OWNER] = threadId();
      return;
    }
    this._lockRobust(Infinity, 'Mutex.lock()', lockStep);
  }

  /** Locks if free; returns whether it did (qemu_mutex_trylock). Never blocks. Any thread. */
  tryLock(): boolean {
    return mutexTryLock(this._f, this._b, threadId());
  }

  /**
   * Like `lock()`, but gives up after `ms` milliseconds (`Infinity`: never); returns
   * whether it locked. If the holder ended without unlocking, throws OwnerDiedError (the
   * caller then holds the mutex) as soon as that is seen, not at the deadline. Throws
   * ERR_AIO_CANNOT_BLOCK where it would wait in a thread that may not block. Any thread.
   */
  timedLock(ms: number): boolean {
    checkMs('ms', ms);
    return this._lockRobust(ms, 'Mutex.timedLock()', lockStep);
  }

  /**
   * Unlocks (qemu_mutex_unlock). Throws ERR_AIO_NOT_OWNER, leaving the mutex unchanged,
   * if the calling thread does not hold it. Any thread (the holder).
   */
  unlock(): void {
    // mutexUnlock() on the words directly (see lock()).
    const mem = this.#mem;
    const b = this._b;
    if (mem[b + OWNER] !== threadId()) throw notOwnerError('Mutex.unlock()');
    mem[b + OWNER] = 0;
    // Pairs with the acquirers' compareExchange/exchange and their wait on CONTENDED.
    if (Atomics.exchange(mem, b, FREE) === CONTENDED) Atomics.notify(mem, b, 1);
  }

  /**
   * Locks without blocking the thread: resolves once locked. While it waits, the host is
   * kept alive. If `signal` aborts first, rejects with `signal.reason` and does not hold
   * the lock. Ownership is per thread: another task of this thread holding the mutex makes
   * this wait, but do not `lock()` the same mutex synchronously in this thread while this
   * is pending (the thread would sleep on a wake-up only this task can pass on). Rejects
   * with OwnerDiedError, the caller then holding the mutex, if the holder ended without
   * unlocking (as `lock()`). Any thread.
   */
  lockAsync(signal?: AbortSignalLike): Promise<void> {
    return this._lockAsync(signal, (f, b, me) => mutexLock(f, b, me, true, true));
  }

  /**
   * True while some thread holds the mutex (a snapshot: it may change right after). Any
   * thread.
   */
  isLocked(): boolean {
    return Atomics.load(this.#mem, this._b) !== FREE;
  }

  /**
   * Resolves once the mutex is seen free, without taking it (at once if it is free now).
   * This mutex hands nothing over (a woken locker competes with newcomers), so "free" is
   * an instant: by the time the caller runs, another locker may hold it. If the holder's
   * thread ended holding it, rejects with AioError 'ERR_AIO_OWNER_DIED' (the mutex stays
   * held until a locker takes it over, which that locker is told). If `signal` aborts
   * first, rejects with `signal.reason`. Never resolves while this thread holds it with
   * no other task to unlock it. Any thread.
   */
  waitForUnlock(signal?: AbortSignalLike): Promise<void> {
    return this._waitForUnlockAsync(signal, freeStep);
  }

  /**
   * Runs `fn` holding the mutex: `lockAsync(signal)`, then `fn()` (sync or async), then
   * `unlock()` however `fn` ends. Resolves with `fn`'s result, rejects with what it
   * throws (the mutex released either way). If `signal` aborts before the mutex is taken,
   * rejects with `signal.reason` without running `fn`. If the holder ended without
   * unlocking, the mutex is taken over and released again and this rejects with AioError
   * 'ERR_AIO_OWNER_DIED' (the OwnerDiedError as its `cause`) without running `fn`: to
   * repair under the lock, use `lockAsync()`. Any thread (holding it for the thread, so
   * synchronous `lock()` calls of this thread's other code throw ERR_AIO_LOCK_ORDER
   * meanwhile).
   */
  runExclusive<T>(fn: () => T | PromiseLike<T>, signal?: AbortSignalLike): Promise<Awaited<T>> {
    return runExclusive(this, 'Mutex.runExclusive()', () => this.lockAsync(signal), fn);
  }

  /**
   * Locks as `lock()` does and returns a guard for `using g = m.lockGuard()`: the mutex is
   * unlocked when the scope ends (or at `g.release()`). Throws where `lock()` throws; a
   * holder that died is reported as by `runExclusive()` (AioError 'ERR_AIO_OWNER_DIED',
   * mutex released). Any thread that may block (ERR_AIO_CANNOT_BLOCK elsewhere, if it
   * would wait).
   */
  lockGuard(): LockGuard {
    return guardOf(this, 'Mutex.lockGuard()', () => this.lock());
  }

  /**
   * Locks as `lockAsync(signal)` does and resolves with a guard, for
   * `await using g = await m.lockGuardAsync()`; the mutex is unlocked when the scope ends.
   * Rejects where `lockAsync()` rejects; a holder that died is reported as by
   * `runExclusive()`. Any thread.
   */
  lockGuardAsync(signal?: AbortSignalLike): Promise<LockGuard> {
    return guardOfAsync(this, 'Mutex.lockGuardAsync()', this.lockAsync(signal));
  }
}
