/**
 * The shared state of a CoMutex used from several threads: its lock-state words and its
 * FIFO ring of waiters, guarded by a short lock (locks/short-lock.ts). Written once
 * against `FutexOps` and model-checked (test/conformance/locks/model-co-mutex.test.ts);
 * how a hand-off reaches the waiter's context, and who watches for a dead holder, is
 * shared-co-mutex.ts (the `RingHooks` it passes in).
 *
 * Words (`CoMutexWord`, an Int32Array over the mutex's own SharedArrayBuffer):
 *   Guard, GuardOwner  the short lock over Head, Tail and the ring (held for a few loads
 *                      and stores; its owner word lets a dead holder's guard be taken over)
 *   Locked             1 while someone holds the mutex, including through every hand-off
 *   Holder             threadId() of the holder's thread, 0 while free (and for a moment
 *                      after a taker's compareExchange on Locked, before it stores its id)
 *   Head, Tail         positions (only growing, modulo 2^32) in the waiter ring; touched
 *                      only under the guard, so plain accesses
 *   Watchers           waitForUnlock() callers between announcing a sleep on Locked and
 *                      finishing it, so an unlock that frees the mutex knows to wake them
 *   Ring+              per waiter (CO_MUTEX_ENTRY words): the wake-table slot of its
 *                      context, the id that wakes it (0 once withdrawn), its thread's id;
 *                      under the guard, plain accesses
 *
 * The rule (QEMU's hand-off): `Locked` never drops to 0 while a waiter is queued. A locker
 * that finds the mutex held queues itself under the guard, after checking `Locked` again
 * there; the holder's unlock pops the oldest queued waiter under the guard, names it in
 * `Holder` and leaves `Locked` at 1, or, with nobody queued, clears `Locked` before it
 * releases the guard. Nobody can barge in between, and no waiter queues behind a free
 * mutex.
 */
import type { FutexOps } from '../locks/futex.js';
import type { DeathRecord } from '../locks/short-lock.js';

/** Word offsets of a shared CoMutex. */
export const CoMutexWord = { Guard: 0, Locked: 1, Head: 2, Tail: 3, Holder: 4, GuardOwner: 5, Watchers: 6, Ring: 8 } as const;
/** Words per ring entry: context slot, id, thread id. */
export const CO_MUTEX_ENTRY = 3;

const LOCKED = CoMutexWord.Locked;
const HEAD = CoMutexWord.Head;
const TAIL = CoMutexWord.Tail;
const HOLDER = CoMutexWord.Holder;
const WATCHERS = CoMutexWord.Watchers;

/** What coLockOrEnqueue() did: took the free mutex, queued the caller, or nothing (the ring is full). */
export const CoLockResult = { Taken: 0, Queued: 1, Full: 2 } as const;

/** What the ring algorithms need besides the words. */
export interface RingHooks {
  /** Takes the guard (the short lock at Guard and GuardOwner) for the calling thread. */
  guard(): void;
  /** Releases the guard. */
  unguard(): void;
  /**
   * Hands the mutex to the popped waiter (`slot`, `id`, `thread`), telling it `ownerDied`.
   * Returns false when the waiter can never take it (its context is gone, its thread
   * lives on): the mutex then goes to the next one. Called without the guard.
   */
  handTo(slot: number, id: number, thread: number, ownerDied: boolean): boolean;
}

/** Word index of the entry at ring position `pos`, in a ring of `capacity` (a power of two) entries. */
function entry(pos: number, capacity: number): number {
  return CoMutexWord.Ring + CO_MUTEX_ENTRY * (pos & (capacity - 1));
}

// ---------------------------------------------------------------------------------------
// Algorithm (deterministic, see locks/futex.ts). `f` is over the mutex's words, `capacity`
// the number of ring entries (a power of two), `me` the caller's thread id.

/** Takes the mutex if it is free. Any thread. */
export function coTryLock(f: FutexOps, me: number): boolean {
  // Pairs with the store of 0 in coHandOff(), made after the holder word was cleared.
  if (f.compareExchange(LOCKED, 0, 1) !== 0) return false;
  f.store(HOLDER, me);
  return true;
}

/** True while the mutex is held (by anyone). Any thread. */
export function coLocked(f: FutexOps): boolean {
  return f.load(LOCKED) !== 0;
}

/**
 * Takes the mutex if it is free, else queues the waiter (`slot`, `id`, `me`; `id` not 0)
 * at the ring's tail. Returns a CoLockResult. Any thread.
 */
export function coLockOrEnqueue(f: FutexOps, hooks: RingHooks, capacity: number, me: number, slot: number, id: number): number {
  hooks.guard();
  // Under the guard: an unlock that found nobody queued cleared Locked before it released
  // the guard, so either this sees it free or that unlock sees this waiter.
  if (coTryLock(f, me)) {
    hooks.unguard();
    return CoLockResult.Taken;
  }
  const tail = f.read(TAIL);
  if (((tail - f.read(HEAD)) | 0) >= capacity) {
    hooks.unguard();
    return CoLockResult.Full;
  }
  const e = entry(tail, capacity);
  f.write(e, slot);
  f.write(e + 1, id);
  f.write(e + 2, me);
  f.write(TAIL, (tail + 1) | 0);
  hooks.unguard();
  return CoLockResult.Queued;
}

/**
 * Waits until the mutex is free (nobody holding it, nobody queued), taking nothing.
 * Returns false if a cancellable wait gave up. Any thread.
 */
export function coAwaitFree(f: FutexOps, cancellable: boolean): boolean {
  if (f.load(LOCKED) === 0) return true;
  // Announce the sleep before checking Locked again inside the wait; pairs with the load
  // of Watchers in coHandOff(). Every watcher is woken, so none passes a wake-up on.
  f.add(WATCHERS, 1);
  let free = true;
  while (f.load(LOCKED) !== 0) {
    if (f.wait(LOCKED, 1, cancellable) === 'timed-out') {
      free = false;
      break;
    }
  }
  f.sub(WATCHERS, 1);
  return free;
}

/**
 * Withdraws the queued waiter (`slot`, `id`): returns true if it was still queued (it will
 * not be handed the mutex), false if it was handed the mutex already. Any thread.
 */
export function coWithdraw(f: FutexOps, hooks: RingHooks, capacity: number, slot: number, id: number): boolean {
  hooks.guard();
  const end = f.read(TAIL);
  // At most `capacity` entries: bounded even if the positions were forged.
  for (let pos = f.read(HEAD), n = 0; pos !== end && n < capacity; pos = (pos + 1) | 0, n++) {
    const e = entry(pos, capacity);
    if (f.read(e + 1) === id && f.read(e) === slot) {
      f.write(e + 1, 0);
      hooks.unguard();
      return true;
    }
  }
  hooks.unguard();
  return false;
}

/**
 * Releases the mutex, the guard being held (the caller took it; this releases it): hands
 * it to the oldest waiter still queued through `hooks.handTo`, telling it `ownerDied`, or
 * frees it when nobody is queued. The holder, or whoever acts for a dead one.
 */
export function coHandOff(f: FutexOps, hooks: RingHooks, capacity: number, ownerDied: boolean): void {
  for (;;) {
    let head = f.read(HEAD);
    const tail = f.read(TAIL);
    let slot = 0;
    let id = 0;
    let thread = 0;
    for (let n = 0; head !== tail && id === 0 && n < capacity; n++) {
      const e = entry(head, capacity);
      slot = f.read(e);
      id = f.read(e + 1);
      thread = f.read(e + 2);
      head = (head + 1) | 0;
    }
    f.write(HEAD, id === 0 ? tail : head);
    // The holder word names the next holder before anyone can see the mutex change hands.
    f.store(HOLDER, id === 0 ? 0 : thread);
    if (id === 0) {
      // Pairs with the compareExchange in coTryLock(): free only with nobody queued.
      f.store(LOCKED, 0);
      // Pairs with the add to Watchers in coAwaitFree(): it announces itself before it
      // sleeps on Locked, this stores Locked before it reads Watchers.
      if (f.load(WATCHERS) !== 0) f.notify(LOCKED, Infinity);
    }
    hooks.unguard();
    if (id === 0 || hooks.handTo(slot, id, thread, ownerDied)) return;
    hooks.guard();
  }
}

/**
 * If the holder word names a thread that `deaths` records as ended, takes the guard and
 * returns true: the caller then hands the mutex on with coHandOff(…, true). Exactly one
 * caller acts for a given dead holder. Any thread.
 */
export function coHolderDied(f: FutexOps, hooks: RingHooks, deaths: DeathRecord): boolean {
  const holder = f.load(HOLDER);
  if (holder === 0 || !deaths.isThreadDead(holder)) return false;
  hooks.guard();
  // Another checker may have handed it on since the load above.
  if (f.load(HOLDER) !== holder || f.load(LOCKED) === 0) {
    hooks.unguard();
    return false;
  }
  return true;
}
