/**
 * LockCnt: QEMU's QemuLockCnt (util/lockcnt.c, the futex variant) in shared memory: a
 * counter of concurrent visitors and a lock in one word.
 *
 * Owns: the lock-counter algorithm and its word layout.
 *
 * Words (from the handle's index):
 *   0 count  bits 0-1: lock state, FREE 0, LOCKED 1 (held, nobody waits), WAITING 2
 *            (held, someone may wait); bits 2-30: the counter, in steps of 4. The
 *            futex word waiters sleep on.
 *   1 owner  threadId() of the lock holder, 0 when free (for error checking; the lock
 *            state itself lives in word 0)
 *
 * The contract (docs/devel/lockcnt.rst): data protected by a LockCnt may be freed only
 * while the counter is zero and the lock is held; a new visit (inc) cannot start while the
 * counter is zero and the lock is held, so `inc` waits for the holder in that case.
 *
 * The waiting rule (Drepper's mutex, applied to the low bits): a thread that slept does
 * not know whether others still sleep, so if it then takes the lock it installs WAITING
 * rather than LOCKED (its unlock will wake one), and if it finishes without the lock it
 * wakes one itself, passing on the wake-up it consumed. A cancellable wait that gives up
 * (a thread that may not block) follows the same rule.
 *
 * Robust (robust.ts): waits for the lock are bounded, and a waiter that finds the lock's
 * owner dead takes the owner word over and gets OwnerDiedError holding the lock, with the
 * counter as it was before its call.
 */
import { AioError } from '../base/errors.js';
import type { FutexOps } from './futex.js';
import { type LockHandle, fromHandle, lockKind } from './handle.js';
import { notOwnerError, selfDeadlockError } from './mutex.js';
import { RobustLock } from './robust.js';
import { threadId } from './thread-id.js';

/** Word offsets of the lock-counter layout. @internal */
const LockCntWord = { Count: 0, Owner: 1, Size: 2 } as const;

const FREE = 0;
const LOCKED = 1;
const WAITING = 2;
const MASK = 3;
const STEP = 4;
const SHIFT = 2;
const OWNER = 1;
/** Returned by lockCntSleep() when a cancellable wait gave up (the word is never negative). */
const GAVE_UP = -1;

/** The result of decAndLock/decIfLock algorithms. @internal */
export const LockCntResult = { NotLocked: 0, Locked: 1, GaveUp: -1 } as const;

function unbalanced(what: string): AioError {
  return new AioError('ERR_AIO_UNBALANCED', `${what}: the counter is already zero (more decrements than increments)`);
}

// ---------------------------------------------------------------------------------------
// Algorithm (deterministic, see futex.ts). `val` is always the last value seen in word `b`.

/**
 * One step of waiting while the lock is held (state LOCKED or WAITING in `val`): LOCKED
 * is first marked WAITING, so that the holder's unlock wakes someone; WAITING sleeps
 * until the word changes. Returns the new value of the word, or GAVE_UP. Throws
 * ERR_AIO_LOCK_ORDER if `me` holds the lock (the wait could never end).
 */
function lockCntSleep(f: FutexOps, b: number, val: number, me: number, what: string): number {
  if (f.read(b + OWNER) === me) throw selfDeadlockError(what);
  if ((val & MASK) === LOCKED) {
    // Pairs with the compareExchange in lockCntUnlock(): the holder either sees WAITING
    // and wakes one, or changed the word first and this fails.
    const waiting = val - LOCKED + WAITING;
    const seen = f.compareExchange(b, val, waiting);
    return seen === val ? waiting : seen;
  }
  // Sleeps only while the word is unchanged; pairs with the notify in lockCntUnlock().
  if (f.wait(b, val, true) === 'timed-out') return GAVE_UP;
  return f.load(b);
}

/**
 * Starts a visit (qemu_lockcnt_inc): counter + 1, first waiting for the lock holder if
 * the counter is 0 and the lock is held. False if a cancellable wait gave up. @internal
 */
export function lockCntInc(f: FutexOps, b: number, me: number): boolean {
  let val = f.load(b);
  let waited = false;
  for (;;) {
    if (val >= STEP) {
      // Visits are in progress, so another may start whatever the lock state.
      const seen = f.compareExchange(b, val, val + STEP);
      if (seen === val) break;
      val = seen;
    } else if ((val & MASK) === FREE) {
      // (0, free) -> (1, free). Pairs with the compareExchange in the lock takers.
      const seen = f.compareExchange(b, val, val + STEP);
      if (seen === val) break;
      val = seen;
    } else {
      if ((val & MASK) === WAITING) waited = true;
      val = lockCntSleep(f, b, val, me, 'LockCnt.inc()');
      if (val === GAVE_UP) {
        if (waited) f.notify(b, 1);
        return false;
      }
    }
  }
  // We were maybe given the wake-up of an unlock, but do not take the lock: pass it on.
  if (waited) f.notify(b, 1);
  return true;
}

/** Ends a visit (qemu_lockcnt_dec): counter - 1. Never blocks. @internal */
export function lockCntDec(f: FutexOps, b: number): void {
  let val = f.load(b);
  for (;;) {
    if (val < STEP) throw unbalanced('LockCnt.dec()');
    // Pairs with the compareExchange in decAndLock/decIfLock, which look for count 1.
    const seen = f.compareExchange(b, val, val - STEP);
    if (seen === val) return;
    val = seen;
  }
}

/**
 * Ends a visit; if it was the last one, also takes the lock (qemu_lockcnt_dec_and_lock).
 * `onlyIfLast` (qemu_lockcnt_dec_if_lock): when other visits remain, changes nothing.
 * Returns LockCntResult. @internal
 */
export function lockCntDecAndLock(f: FutexOps, b: number, me: number, onlyIfLast: boolean): number {
  const what = onlyIfLast ? 'LockCnt.decIfLock()' : 'LockCnt.decAndLock()';
  let val = f.load(b);
  let lockedState = LOCKED;
  for (;;) {
    if (val < STEP) throw unbalanced(what);
    if (val >= 2 * STEP) {
      if (onlyIfLast) break;
      const seen = f.compareExchange(b, val, val - STEP);
      if (seen === val) break;
      val = seen;
    } else if ((val & MASK) === FREE) {
      // (1, free) -> (0, locked), or (0, waiting) once we slept.
      const seen = f.compareExchange(b, val, val - STEP + lockedState);
      if (seen === val) {
        f.write(b + OWNER, me);
        return LockCntResult.Locked;
      }
      val = seen;
    } else {
      if ((val & MASK) === WAITING) lockedState = WAITING;
      val = lockCntSleep(f, b, val, me, what);
      if (val === GAVE_UP) {
        if (lockedState === WAITING) f.notify(b, 1);
        return LockCntResult.GaveUp;
      }
    }
  }
  // We may hold a wake-up meant for a lock taker, but leave without the lock: pass it on.
  if (lockedState === WAITING) f.notify(b, 1);
  return LockCntResult.NotLocked;
}

/** Takes the lock, leaving the counter alone (qemu_lockcnt_lock). False if it gave up. @internal */
export function lockCntLock(f: FutexOps, b: number, me: number): boolean {
  let val = f.load(b);
  let lockedState = LOCKED;
  for (;;) {
    if ((val & MASK) === FREE) {
      // Pairs with the compareExchange in lockCntUnlock() and the other lock takers.
      const seen = f.compareExchange(b, val, val + lockedState);
      if (seen === val) {
        f.write(b + OWNER, me);
        return true;
      }
      val = seen;
    } else {
      if ((val & MASK) === WAITING) lockedState = WAITING;
      val = lockCntSleep(f, b, val, me, 'LockCnt.lock()');
      if (val === GAVE_UP) {
        if (lockedState === WAITING) f.notify(b, 1);
        return false;
      }
    }
  }
}

/**
 * Releases the lock (qemu_lockcnt_unlock), or releases it and starts a visit in one step
 * (`inc`, qemu_lockcnt_inc_and_unlock), waking one sleeper if the state was WAITING.
 * Throws ERR_AIO_NOT_OWNER, changing nothing, unless `me` holds the lock. @internal
 */
export function lockCntUnlock(f: FutexOps, b: number, me: number, inc: boolean): void {
  if (f.read(b + OWNER) !== me) throw notOwnerError(inc ? 'LockCnt.incAndUnlock()' : 'LockCnt.unlock()');
  f.write(b + OWNER, 0);
  let val = f.load(b);
  for (;;) {
    // Pairs with the compareExchange LOCKED -> WAITING in lockCntSleep().
    const next = (inc ? val + STEP : val) & ~MASK;
    const seen = f.compareExchange(b, val, next);
    if (seen === val) break;
    val = seen;
  }
  // Pairs with the wait in lockCntSleep().
  if (val & WAITING) f.notify(b, 1);
}

/** The counter (qemu_lockcnt_count). @internal */
function lockCntCount(f: FutexOps, b: number): number {
  return f.load(b) >>> SHIFT;
}

// ---------------------------------------------------------------------------------------
// Class

/** The structured-cloneable form of a {@link LockCnt}. */
export type LockCntHandle = LockHandle<'aio.LockCnt'>;

const LOCK_CNT = lockKind('LockCnt', LockCntWord.Size);

/**
 * A counter of concurrent visitors plus a lock, in one shared word (QemuLockCnt). Used to
 * walk a list without the lock while letting whoever frees entries wait until no visit is
 * in progress. The counter holds up to 2^29 - 1 visits. Any thread.
 *
 * @example
 * ```ts
 * import { LockCnt } from 'aio-node';
 *
 * const visitors = new LockCnt();
 * visitors.inc(); // a reader visits the list without the lock
 * // ... read the list
 * if (visitors.decAndLock()) {
 *   // the last visitor, holding the lock: free what was unlinked meanwhile
 *   visitors.unlock();
 * }
 * ```
 */
export class LockCnt extends RobustLock<'aio.LockCnt'> {
  /** Creates a lock counter with counter 0 and the lock free (qemu_lockcnt_init). Any thread. */
  constructor() {
    super(LOCK_CNT, OWNER);
  }

  /**
   * Rebuilds a lock counter from its handle; throws ERR_AIO_BAD_HANDLE if `handle` is not
   * a LockCnt handle. Any thread.
   */
  static from(handle: LockCntHandle): LockCnt {
    return fromHandle(LOCK_CNT, handle, () => new LockCnt());
  }

  /**
   * Starts a visit: counter + 1 (qemu_lockcnt_inc). If the counter is 0 and the lock is
   * held, first waits for the holder to unlock. Must not be called by the lock holder in
   * that state (ERR_AIO_LOCK_ORDER: it would wait for itself). If the holder ended without
   * unlocking, throws OwnerDiedError instead: the caller then holds the lock and no visit
   * was started (repair, then `incAndUnlock()`). Throws ERR_AIO_CANNOT_BLOCK if it would
   * have to wait in a thread that may not block. Any thread.
   */
  inc(): void {
    // The first step of lockCntInc() on the words directly (visits in progress, or the
    // lock free): the same compareExchange, without the robust wait set-up.
    const mem = this._f.mem;
    const b = this._b;
    const val = Atomics.load(mem, b);
    if ((val >= STEP || (val & MASK) === FREE) && Atomics.compareExchange(mem, b, val, val + STEP) === val) return;
    this._lockRobust(Infinity, 'LockCnt.inc()', lockCntInc);
  }

  #decAndLock(onlyIfLast: boolean): boolean {
    let r: number = LockCntResult.GaveUp;
    this._lockRobust(Infinity, onlyIfLast ? 'LockCnt.decIfLock()' : 'LockCnt.decAndLock()', (f, b, me) => {
      r = lockCntDecAndLock(f, b, me, onlyIfLast);
      return r !== LockCntResult.GaveUp;
    });
    return r === LockCntResult.Locked;
  }

  /**
   * Ends a visit: counter - 1 (qemu_lockcnt_dec). Never blocks. Throws ERR_AIO_UNBALANCED,
   * changing nothing, if the counter is 0. Any thread.
   */
  dec(): void {
    lockCntDec(this._f, this._b);
  }

  /**
   * Ends a visit; if it was the last, takes the lock too and returns true, with the
   * counter 0 (qemu_lockcnt_dec_and_lock). Otherwise returns false. May wait for the lock;
   * if its holder ended without unlocking, throws OwnerDiedError: the caller then holds
   * the lock and its visit was not ended. Throws ERR_AIO_UNBALANCED, changing nothing, if
   * the counter is 0. Any thread.
   */
  decAndLock(): boolean {
    return this.#decAndLock(false);
  }

  /**
   * If this is the only visit, ends it and takes the lock, returning true
   * (qemu_lockcnt_dec_if_lock); otherwise changes nothing and returns false. May wait for
   * the lock; OwnerDiedError as for `decAndLock()`. Any thread.
   */
  decIfLock(): boolean {
    return this.#decAndLock(true);
  }

  /**
   * Takes the lock, leaving the counter alone (qemu_lockcnt_lock); blocks while another
   * thread holds it. If the holder ended without unlocking, throws OwnerDiedError, the
   * caller then holding the lock. Throws ERR_AIO_LOCK_ORDER if this thread holds it
   * already. Any thread.
   */
  lock(): void {
    // The first step of lockCntLock() on the words directly (see inc()).
    const mem = this._f.mem;
    const b = this._b;
    const val = Atomics.load(mem, b);
    if ((val & MASK) === FREE && Atomics.compareExchange(mem, b, val, val + LOCKED) === val) {
      mem[b + OWNER] = threadId();
      return;
    }
    this._lockRobust(Infinity, 'LockCnt.lock()', lockCntLock);
  }

  /**
   * Releases the lock (qemu_lockcnt_unlock). Throws ERR_AIO_NOT_OWNER, changing nothing,
   * if this thread does not hold it. Any thread (the holder).
   */
  unlock(): void {
    lockCntUnlock(this._f, this._b, threadId(), false);
  }

  /**
   * Releases the lock and starts a visit, atomically (qemu_lockcnt_inc_and_unlock). Throws
   * ERR_AIO_NOT_OWNER, changing nothing, if this thread does not hold the lock. Any thread
   * (the holder).
   */
  incAndUnlock(): void {
    lockCntUnlock(this._f, this._b, threadId(), true);
  }

  /** The counter now (qemu_lockcnt_count; a snapshot). Any thread. */
  count(): number {
    return lockCntCount(this._f, this._b);
  }
}
