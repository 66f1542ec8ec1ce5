/**
 * The shared-memory state of a CoMutex used from several threads (through its handle).
 *
 * Words (Int32Array over the mutex's own SharedArrayBuffer):
 *   0  guard: a spin lock over the words below (held for a few loads and stores only)
 *   1  locked: 1 while someone holds the mutex, including through every hand-off
 *   2  head, 3 tail: positions (only growing) in the waiter ring
 *   4  holder: threadId() of the holder's thread, 0 while free (and for a moment after a
 *      taker's compareExchange on `locked`, before it writes its id)
 *   8+ the ring: per waiter, the wake-table slot of its context, the id of the hand-off
 *      that wakes it (0 once withdrawn), and its thread's id
 *
 * A locker that finds the mutex held appends itself and waits; `unlock()` pops the oldest
 * live waiter and sends it a HANDOFF record through its context's inbox (hand-off.ts),
 * keeping `locked` at 1, so nobody can barge in between (QEMU's hand-off). The waiter
 * resumes in its own thread's context, in that context's poll. Any thread holding the
 * handle.
 *
 * Robust (robust.ts): while a context of this thread has waiters queued on a shared mutex,
 * a timer of that context looks every ROBUST_CHECK_MS at the holder word; when the holder's
 * thread is recorded as dead, the mutex is handed to the oldest live waiter as if the
 * holder had unlocked, and that waiter's lock() fails with OwnerDiedError while holding
 * the mutex. A waiter that dies after it was handed the mutex is a dead holder like any
 * other. A check costs nothing while nobody waits, and one timer per waiting context.
 */
import { Clock, clockNs, SCALE_MS } from '../clock.js';
import type { AioContext } from '../context.js';
import { AioError } from '../errors.js';
import { expectHandOff, forgetHandOff, sendHandOff } from '../hand-off.js';
import { ROBUST_CHECK_MS } from '../locks/robust.js';
import { threadId } from '../locks/thread-id.js';
import { SLOTS, type WakeTable, allocShared } from '../shared-memory.js';
import type { Timer } from '../timer.js';

const GUARD = 0;
const LOCKED = 1;
const HEAD = 2;
const TAIL = 3;
const HOLDER = 4;
const RING = 8;
/** Words per ring entry: context slot, reply id, thread id. */
const ENTRY = 3;
/** Waiters that may queue at once on one shared CoMutex. */
export const SHARED_CO_MUTEX_WAITERS = 1024;

/** Bytes of a shared CoMutex's memory. */
export const SHARED_CO_MUTEX_BYTES = (RING + ENTRY * SHARED_CO_MUTEX_WAITERS) * 4;

/** Allocates the words of a shared CoMutex; a locked one is held by the calling thread. */
export function allocSharedCoMutex(locked: boolean): Int32Array {
  const words = new Int32Array(allocShared(SHARED_CO_MUTEX_BYTES));
  words[LOCKED] = locked ? 1 : 0;
  words[HOLDER] = locked ? threadId() : 0;
  return words;
}

function guard(w: Int32Array): void {
  // Pairs with the store of 0 in unguard(). Critical sections are a few word operations,
  // so spinning is cheaper than sleeping, and works where a thread may not block.
  while (Atomics.compareExchange(w, GUARD, 0, 1) !== 0);
}

function unguard(w: Int32Array): void {
  Atomics.store(w, GUARD, 0);
}

/** Takes the mutex if free. */
export function sharedTryLock(w: Int32Array): boolean {
  // Pairs with the store of 0 in handOff(), made after the holder word was cleared.
  if (Atomics.compareExchange(w, LOCKED, 0, 1) !== 0) return false;
  Atomics.store(w, HOLDER, threadId());
  return true;
}

/** True while held. */
export function sharedLocked(w: Int32Array): boolean {
  return Atomics.load(w, LOCKED) !== 0;
}

/** A queued cross-thread waiter: withdraw() takes it back if it was not granted yet. */
export interface SharedTicket {
  withdraw(): boolean;
}

/**
 * Takes the mutex or queues the caller; `granted` runs in the caller's current context's
 * poll once the mutex is handed over, with true when it was taken over from a holder that
 * died, false otherwise; or with the error when no grant can come (that context closed),
 * the caller then neither queued nor holding. Returns null when taken at once.
 */
export function sharedLockOrQueue(w: Int32Array, table: WakeTable, granted: (outcome: boolean | Error) => void): SharedTicket | null {
  if (sharedTryLock(w)) return null;
  let watch: HolderWatch | null = null;
  const { id, context: replyTo } = expectHandOff(table, 'CoMutex.lock()', (outcome) => {
    watch?.remove(w);
    if (typeof outcome === 'boolean') return granted(outcome);
    // No grant will come (this thread's context is closing): leave the queue, or, if the
    // mutex was already handed here, pass it on; the waiter fails with the error.
    if (!withdrawEntry(w, id, replyTo._slot)) sharedUnlock(w, table, false);
    granted(outcome);
  });
  guard(w);
  if (Atomics.compareExchange(w, LOCKED, 0, 1) === 0) {
    Atomics.store(w, HOLDER, threadId());
    unguard(w);
    forgetHandOff(id);
    return null;
  }
  const tail = Atomics.load(w, TAIL);
  if (tail - Atomics.load(w, HEAD) >= SHARED_CO_MUTEX_WAITERS) {
    unguard(w);
    forgetHandOff(id);
    throw new AioError('ERR_AIO_BUSY', `CoMutex.lock(): more than ${SHARED_CO_MUTEX_WAITERS} waiters on one shared CoMutex`);
  }
  const at = RING + ENTRY * (tail % SHARED_CO_MUTEX_WAITERS);
  Atomics.store(w, at, replyTo._slot);
  Atomics.store(w, at + 1, id);
  Atomics.store(w, at + 2, threadId());
  Atomics.store(w, TAIL, tail + 1);
  unguard(w);
  watch = HolderWatch.of(replyTo);
  watch.add(w, table);
  return {
    withdraw(): boolean {
      if (!withdrawEntry(w, id, replyTo._slot)) return false; // already handed over: the grant is on its way
      forgetHandOff(id);
      watch!.remove(w);
      return true;
    },
  };
}

/** Takes the waiter (`id`, `slot`) out of the ring if it is still queued; false if it was handed the mutex. */
function withdrawEntry(w: Int32Array, id: number, slot: number): boolean {
  guard(w);
  const head = Atomics.load(w, HEAD);
  const end = Atomics.load(w, TAIL);
  for (let i = head; i < end; i++) {
    const e = RING + ENTRY * (i % SHARED_CO_MUTEX_WAITERS);
    if (Atomics.load(w, e + 1) === id && Atomics.load(w, e) === slot) {
      Atomics.store(w, e + 1, 0);
      unguard(w);
      return true;
    }
  }
  unguard(w);
  return false;
}

/**
 * Releases, handing the mutex to the oldest live waiter if any; `ownerDied` passes on a
 * takeover from a dead holder that a waiter which left could not report.
 */
export function sharedUnlock(w: Int32Array, table: WakeTable, ownerDied = false): void {
  if (Atomics.load(w, LOCKED) === 0) throw new AioError('ERR_AIO_NOT_OWNER', 'CoMutex.unlock(): the mutex is not locked');
  guard(w);
  handOff(w, table, ownerDied);
}

/**
 * With the guard held (it releases it): hands the mutex to the oldest live waiter, telling
 * it `ownerDied`, or frees it.
 */
function handOff(w: Int32Array, table: WakeTable, ownerDied: boolean): void {
  for (;;) {
    let slot = 0;
    let id = 0;
    let thread = 0;
    let head = Atomics.load(w, HEAD);
    const tail = Atomics.load(w, TAIL);
    while (head < tail && id === 0) {
      const e = RING + ENTRY * (head % SHARED_CO_MUTEX_WAITERS);
      slot = Atomics.load(w, e);
      id = Atomics.load(w, e + 1);
      thread = Atomics.load(w, e + 2);
      head++;
    }
    Atomics.store(w, HEAD, head);
    // The holder word names the next holder before anyone can see the mutex change hands.
    Atomics.store(w, HOLDER, thread);
    if (id === 0) {
      Atomics.store(w, LOCKED, 0);
      unguard(w);
      return;
    }
    unguard(w);
    // A slot out of range is only in corrupt memory: skipped like a context that is gone.
    const generation = slot >= 0 && slot < SLOTS ? table.generation(slot) : 0;
    if (generation !== 0) {
      sendHandOff({ table, slot, generation }, id, ownerDied);
      return;
    }
    // A waiter that died queued (its context was reclaimed) is handed the mutex all the
    // same: it holds it for the next locker, who is told, as after any holder's death.
    if (thread !== 0 && table.isThreadDead(thread)) return;
    // A waiter whose context is gone (its thread ended) is skipped: hand to the next one.
    guard(w);
  }
}

/**
 * If the holder's thread is recorded as dead, hands the mutex on as its unlock would have,
 * telling the next holder. Exactly one caller acts for a given dead holder. Any thread.
 */
function takeOverFromDeadHolder(w: Int32Array, table: WakeTable): void {
  const holder = Atomics.load(w, HOLDER);
  if (holder === 0 || !table.isThreadDead(holder)) return;
  guard(w);
  // Another checker may have handed it on since the load above.
  if (Atomics.load(w, HOLDER) !== holder || Atomics.load(w, LOCKED) === 0) return unguard(w);
  handOff(w, table, true);
}

/**
 * The shared mutexes one context of this thread has waiters queued on, and the timer
 * that checks their holders while there are any. Home thread of the context.
 */
class HolderWatch {
  static readonly #byContext = new WeakMap<AioContext, HolderWatch>();
  readonly #timer: Timer;
  /** Queued waiters per mutex, with the mutex's table. */
  readonly #mutexes = new Map<Int32Array, { table: WakeTable; waiters: number }>();

  private constructor(ctx: AioContext) {
    this.#timer = ctx.timer(Clock.Realtime, SCALE_MS, () => this.#check());
  }

  static of(ctx: AioContext): HolderWatch {
    let watch = HolderWatch.#byContext.get(ctx);
    if (!watch) HolderWatch.#byContext.set(ctx, (watch = new HolderWatch(ctx)));
    return watch;
  }

  add(w: Int32Array, table: WakeTable): void {
    const m = this.#mutexes.get(w);
    if (m) m.waiters++;
    else this.#mutexes.set(w, { table, waiters: 1 });
    if (!this.#timer.pending()) this.#arm();
  }

  remove(w: Int32Array): void {
    const m = this.#mutexes.get(w);
    if (!m || --m.waiters > 0) return;
    this.#mutexes.delete(w);
    // A pending timer would keep the context from closing.
    if (this.#mutexes.size === 0) this.#timer.del();
  }

  #arm(): void {
    this.#timer.modNs(clockNs(Clock.Realtime) + ROBUST_CHECK_MS * SCALE_MS);
  }

  #check(): void {
    for (const [w, m] of this.#mutexes) takeOverFromDeadHolder(w, m.table);
    if (this.#mutexes.size > 0) this.#arm();
  }
}
