/**
 * The short lock: a lock held for a few word operations or one record copy, by any thread
 * of the group, including one that may die holding it (a worker terminated in the
 * middle). It guards the inbox producers (inbox.ts) and the ring of a shared CoMutex
 * (coroutine/co-mutex-ring.ts).
 *
 * It is the Mutex algorithm (mutex.ts: the same state word, values and contended path;
 * not a lock of its own), with what these users need on top:
 *  - spinning first: a holder leaves within microseconds, so a locker looks at the state
 *    word SHORT_LOCK_SPINS times before it pays for a futex wait;
 *  - a thread that may not block (a browser window) keeps spinning instead of failing
 *    with ERR_AIO_CANNOT_BLOCK: the holder is another thread inside a section that waits
 *    for nothing, so it comes out soon;
 *  - the owner-death rule of robust.ts: a locker that spun and then waited
 *    ROBUST_CHECK_MS looks at the owner word, and takes the lock over from a holder whose
 *    thread is recorded dead (exactly one locker wins, by compare-and-swap on the owner
 *    word). The state word stays as the dead holder left it, so the new holder's unlock
 *    wakes the sleepers as usual. Nothing is thrown: the users publish their work with
 *    one final store, so what a dead holder left half-written is unpublished, or they
 *    judge it themselves from the returned flag.
 *
 * Words: the mutex lock word (mutex.ts, with the anonymous holder: MutexValue) and an
 * owner word holding the holder's threadId() (0 while free, and for the moments between a
 * locker's compare-exchange and its store of its id, and between the holder's clearing
 * it and its release: a thread that ends exactly there leaves a lock nobody takes over,
 * as with Mutex). Their indexes are the caller's: the two need not be adjacent.
 */
import { type FutexOps, withDeadline } from './futex.js';
import { MutexValue, mutexAcquireContended, mutexRelease } from './mutex.js';
import { ROBUST_CHECK_MS } from './robust.js';
import { threadId } from './thread-id.js';
import { getHost } from '../base/host.js';

const { Free: FREE, Locked: LOCKED } = MutexValue;

/** Looks at the state word this many times before a futex wait (and between owner checks where the thread may not block). */
const SHORT_LOCK_SPINS = 64;

/** Where ended threads are recorded (a WakeTable; the model checker's stand-in). */
export interface DeathRecord {
  /** True when thread `id` was recorded as ended. */
  isThreadDead(id: number): boolean;
}

/**
 * What one round of the contended path achieved: not locked yet (run another round),
 * locked, or locked by taking the lock over from a holder recorded dead.
 */
export const ShortLockResult = { Again: 0, Locked: 1, TookOver: 2 } as const;

// ---------------------------------------------------------------------------------------
// Algorithm (deterministic, see futex.ts)

/** Takes the short lock (state word `lock`, owner word `owner`) for `me` if it is free. @internal */
export function shortTryLock(f: FutexOps, lock: number, owner: number, me: number): boolean {
  // Pairs with the exchange in mutexRelease().
  if (f.compareExchange(lock, FREE, LOCKED) !== FREE) return false;
  f.write(owner, me);
  return true;
}

/**
 * One round of taking the short lock (state word `lock`, owner word `owner`) for `me`
 * after shortTryLock() failed: `spins` looks at the state word, then, if `mayBlock`, one
 * cancellable futex wait (the caller bounds it), then a look at the owner. Returns a
 * ShortLockResult; the caller runs rounds until one locks. @internal
 */
export function shortLockRound(
  f: FutexOps,
  lock: number,
  owner: number,
  me: number,
  spins: number,
  mayBlock: boolean,
  deaths: DeathRecord,
): number {
  for (let i = 0; i < spins; i++) {
    // Installs LOCKED, not the flagged value, like the uncontended path: the lock was
    // FREE, so whoever freed it flagged woke a sleeper, and that sleeper flags the word
    // again (mutexAcquireContended) before it sleeps again. Pairs with the exchange in
    // mutexRelease().
    if (f.load(lock) === FREE && f.compareExchange(lock, FREE, LOCKED) === FREE) {
      f.write(owner, me);
      return ShortLockResult.Locked;
    }
  }
  // The wait gives up at the caller's deadline; it passes on a wake-up it may have
  // consumed, and leaves at worst the flag with nobody asleep (one useless notify).
  if (mayBlock && mutexAcquireContended(f, lock, LOCKED, LOCKED, true)) {
    f.write(owner, me);
    return ShortLockResult.Locked;
  }
  // The owner word names a thread only while that thread holds the lock (it clears the
  // word before it releases), so a dead thread named there died holding it. Exactly one
  // locker replaces the dead id with its own.
  const holder = f.load(owner);
  if (holder !== 0 && holder !== me && deaths.isThreadDead(holder) && f.compareExchange(owner, holder, me) === holder) {
    return ShortLockResult.TookOver;
  }
  return ShortLockResult.Again;
}

/** Releases the short lock (state word `lock`, owner word `owner`), waking one sleeper if any. The holder. @internal */
export function shortUnlock(f: FutexOps, lock: number, owner: number): void {
  f.write(owner, 0);
  mutexRelease(f, lock);
}

// ---------------------------------------------------------------------------------------
// Real memory

/**
 * Takes the short lock (state word `lock`, owner word `owner`; `f` over real memory) for
 * the calling thread, spinning, then sleeping where the thread may block. Returns true when it took
 * the lock over from a holder whose thread `deaths` records as ended. Any thread.
 */
export function shortLock(f: FutexOps, lock: number, owner: number, deaths: DeathRecord): boolean {
  // Uncontended path: one compareExchange and one plain store, nothing allocated.
  const me = threadId();
  if (shortTryLock(f, lock, owner, me)) return false;
  return shortLockContended(f, lock, owner, me, deaths);
}

function shortLockContended(f: FutexOps, lock: number, owner: number, me: number, deaths: DeathRecord): boolean {
  const mayBlock = getHost().canBlock();
  const round = (): number => shortLockRound(f, lock, owner, me, SHORT_LOCK_SPINS, mayBlock, deaths);
  for (;;) {
    const r = mayBlock ? withDeadline(ROBUST_CHECK_MS, round) : round();
    if (r !== ShortLockResult.Again) return r === ShortLockResult.TookOver;
  }
}
