/**
 * Mutex: QEMU's QemuMutex (an error-checking mutex) in shared memory.
 *
 * Owns: the lock-word algorithm (Drepper's three-state futex mutex, "Futexes Are Tricky",
 * with the holder named in the word as Linux's PI futexes do), used by `Mutex` with the
 * holder's thread id and, with one anonymous holder value, by `RecMutex`, `Cond` (through
 * Mutex) and the short lock, which keep their owner elsewhere.
 *
 * The lock word (at the handle's index; a Mutex has no other word):
 *   FREE (0)                free
 *   holder                  held by `holder` (a thread id, 1 .. 2^30 - 1), nobody waits
 *   holder | WAITERS        held, and some thread may sleep on the word (the sign bit)
 *
 * Naming the holder in the lock word makes error checking free: lock is one
 * compareExchange(FREE -> me), unlock one compareExchange(me -> FREE), as an inline lock
 * without error checking; only an unlock that finds the flag set takes a second step, a
 * store and a notify. Lockers change a held word only by setting the flag; only the holder
 * clears a held word (or a locker taking over from a dead holder, robust.ts).
 *
 * Error checking as PTHREAD_MUTEX_ERRORCHECK: unlock by a thread that does not hold the
 * mutex, or of a free mutex, throws ERR_AIO_NOT_OWNER; a blocking lock() by the holder
 * (which would deadlock) throws ERR_AIO_LOCK_ORDER. The word is also where a waiter looks
 * for a dead holder (robust.ts).
 */
import { type FreeStep, type LockStep, OWNER_BITS, RobustLock } from './robust.js';
import { AioError } from '../base/errors.js';
import { type LockGuard, guardOf, guardOfAsync, runExclusive } from './guard.js';
import type { AbortSignalLike, FutexOps } from './futex.js';
import { type LockHandle, checkMs, fromHandle, lockKind } from './handle.js';
import { threadId } from './thread-id.js';

const FREE = 0;
/** The sign bit of a held lock word: some thread may sleep on the word. */
const WAITERS = ~OWNER_BITS;
/** The holder value of the locks that record their owner in a word of their own. */
const ANONYMOUS = 1;
/** The values of the lock word for locks with an anonymous holder (RecMutex, the short lock), which write the words directly on their uncontended paths. @internal */
export const MutexValue = { Free: FREE, Locked: ANONYMOUS, Contended: ANONYMOUS | WAITERS } as const;

/** @internal */
export function notOwnerError(what: string): AioError {
  return new AioError('ERR_AIO_NOT_OWNER', `${what}: the calling thread does not hold this lock (or it is not locked)`);
}

/** @internal */
export function selfDeadlockError(what: string): AioError {
  return new AioError('ERR_AIO_LOCK_ORDER', `${what}: the calling thread already holds this lock; waiting for it would deadlock`);
}

// ---------------------------------------------------------------------------------------
// Algorithm (lock word at `b`). Deterministic, see futex.ts.

/**
 * Sets the waiters flag on the held word `c` at `b`, so that its release wakes a sleeper.
 * Returns the flagged word to sleep on, or, if the word was no longer `c`, the word seen
 * instead (FREE or unflagged: look again). A word already flagged is returned as it is.
 */
function markWaiting(f: FutexOps, b: number, c: number): number {
  if (c < 0) return c;
  // Pairs with the holder's compareExchange(holder -> FREE) in the releases: whichever
  // comes second sees the other, so the flag is either seen by the release or not set on
  // a released word.
  const seen = f.compareExchange(b, c, c | WAITERS);
  return seen === c ? c | WAITERS : seen;
}

/**
 * Takes the lock word at `b` for `holder` when it is held (`c` is the value the failed
 * fast path saw). Returns false if a cancellable wait gave up; the word stays consistent:
 * at worst it is flagged with nobody waiting, which costs the next release a useless
 * notify.
 * @internal
 */
export function mutexAcquireContended(f: FutexOps, b: number, holder: number, c: number, cancellable: boolean): boolean {
  for (;;) {
    if (c === FREE) {
      // From here on we may have company, so we only ever take the word flagged: a waiter
      // that got the lock cannot know whether others still sleep, and its release must
      // wake them (taking it unflagged is the lost wake-up of Drepper's mutex #1).
      c = f.compareExchange(b, FREE, holder | WAITERS);
      if (c === FREE) return true;
      continue;
    }
    c = markWaiting(f, b, c);
    if (c >= 0) continue;
    // Sleeps only while the word is still `c`; pairs with the notify of the releases.
    if (f.wait(b, c, cancellable) === 'timed-out') {
      // We may have been the waiter a release woke (an abort can land after the
      // wake-up): pass the wake-up on so a sleeper is not left behind a free lock.
      f.notify(b, 1);
      return false;
    }
    c = f.load(b);
  }
}

/** Takes the lock word with the anonymous holder: for RecMutex. @internal */
export function mutexAcquire(f: FutexOps, b: number, cancellable: boolean): boolean {
  // Pairs with the exchange in mutexRelease().
  const c = f.compareExchange(b, FREE, ANONYMOUS);
  return c === FREE || mutexAcquireContended(f, b, ANONYMOUS, c, cancellable);
}

/** Releases a lock word its caller knows it holds, waking one waiter if there may be one. @internal */
export function mutexRelease(f: FutexOps, b: number): void {
  // Pairs with the acquirers' compareExchange and their wait on a flagged word.
  if (f.exchange(b, FREE) < 0) f.notify(b, 1);
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
    // A holder that saw nobody waiting does not notify on release: flag the word first,
    // as a locker does.
    c = markWaiting(f, b, c);
    if (c >= 0) continue;
    const r = f.wait(b, c, cancellable);
    c = f.load(b);
    if (r === 'not-equal') continue;
    // A release wakes one sleeper, and it may have picked this one over a locker: pass
    // the wake-up on when leaving. Staying (the lock was retaken) passes nothing, or two
    // such waiters would wake each other for as long as the lock is held; the retaker
    // took it flagged (a woken locker) or this waiter flags it again, so its release
    // wakes someone.
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
  // Uncontended path: one compareExchange. Pairs with the releases in mutexUnlock().
  const c = f.compareExchange(b, FREE, me);
  if (c === FREE) return true;
  if (!sameThreadMayWait && (c & OWNER_BITS) === me) throw selfDeadlockError('Mutex.lock()');
  return mutexAcquireContended(f, b, me, c, cancellable);
}

/** Locks the mutex at `b` if it is free. @internal */
function mutexTryLock(f: FutexOps, b: number, me: number): boolean {
  return f.compareExchange(b, FREE, me) === FREE;
}

/** Unlocks the mutex at `b`; throws ERR_AIO_NOT_OWNER, changing nothing, unless `me` holds it. @internal */
export function mutexUnlock(f: FutexOps, b: number, me: number, what: string): void {
  // Pairs with the lockers' compareExchange (FREE -> holder, and the flag in markWaiting).
  const c = f.compareExchange(b, me, FREE);
  if (c === me) return;
  if (c !== (me | WAITERS)) throw notOwnerError(what);
  // Flagged: no locker changes the word any more (the flag is set), so a store frees it.
  // Pairs with the waiters' wait on the flagged word.
  f.store(b, FREE);
  f.notify(b, 1);
}

// ---------------------------------------------------------------------------------------
// Class

/** The structured-cloneable form of a {@link Mutex}. */
export type MutexHandle = LockHandle<'aio.Mutex'>;

const MUTEX = lockKind('Mutex', 1);
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
    super(MUTEX, 0);
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
    // The uncontended path of mutexLock() written on the word directly: the same
    // compareExchange (pairs with the releases in mutexUnlock()), without the FutexOps
    // indirection that the model checker needs and the hot path does not.
    if (Atomics.compareExchange(this.#mem, this._b, FREE, threadId()) === FREE) return;
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
    // mutexUnlock() on the word directly (see lock()); the same pairings.
    const mem = this.#mem;
    const b = this._b;
    const me = threadId();
    const c = Atomics.compareExchange(mem, b, me, FREE);
    if (c === me) return;
    if (c !== (me | WAITERS)) throw notOwnerError('Mutex.unlock()');
    Atomics.store(mem, b, FREE);
    Atomics.notify(mem, b, 1);
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
