/**
 * The shared-memory state of a CoMutex used from several threads (through its handle).
 *
 * Words (Int32Array over the mutex's own SharedArrayBuffer):
 *   0  guard: a spin lock over the words below (held for a few loads and stores only)
 *   1  locked: 1 while someone holds the mutex, including through every hand-off
 *   2  head, 3 tail: positions (only growing) in the waiter ring
 *   8+ the ring: per waiter, the wake-table slot of its context and the id of the reply
 *      that wakes it (0 once withdrawn)
 *
 * A locker that finds the mutex held appends itself and waits; `unlock()` pops the oldest
 * live waiter and sends it a reply record through its context's inbox, keeping `locked`
 * at 1, so nobody can barge in between (QEMU's hand-off). The waiter resumes in its own
 * thread's context, in that context's poll. Any thread holding the handle.
 */
import { expectReply, forgetReply } from '../calls.js';
import { AioError } from '../errors.js';
import { RESULT } from '../messages.js';
import { sendRecord } from '../outbox.js';
import { SLOTS, type WakeTable, allocShared } from '../shared-memory.js';

const GUARD = 0;
const LOCKED = 1;
const HEAD = 2;
const TAIL = 3;
const RING = 8;
/** Waiters that may queue at once on one shared CoMutex. */
export const SHARED_CO_MUTEX_WAITERS = 1024;

/** Bytes of a shared CoMutex's memory. */
export const SHARED_CO_MUTEX_BYTES = (RING + 2 * SHARED_CO_MUTEX_WAITERS) * 4;

/** Allocates the words of a shared CoMutex. */
export function allocSharedCoMutex(locked: boolean): Int32Array {
  const words = new Int32Array(allocShared(SHARED_CO_MUTEX_BYTES));
  words[LOCKED] = locked ? 1 : 0;
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
  return Atomics.compareExchange(w, LOCKED, 0, 1) === 0;
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
 * poll once the mutex is handed over. Returns null when taken at once.
 */
export function sharedLockOrQueue(w: Int32Array, table: WakeTable, granted: () => void): SharedTicket | null {
  if (sharedTryLock(w)) return null;
  const { id, replyTo } = expectReply(table, null, 'CoMutex.lock()', () => granted());
  guard(w);
  if (Atomics.compareExchange(w, LOCKED, 0, 1) === 0) {
    unguard(w);
    forgetReply(id);
    return null;
  }
  const tail = Atomics.load(w, TAIL);
  if (tail - Atomics.load(w, HEAD) >= SHARED_CO_MUTEX_WAITERS) {
    unguard(w);
    forgetReply(id);
    throw new AioError('ERR_AIO_BUSY', `CoMutex.lock(): more than ${SHARED_CO_MUTEX_WAITERS} waiters on one shared CoMutex`);
  }
  const at = RING + 2 * (tail % SHARED_CO_MUTEX_WAITERS);
  Atomics.store(w, at, replyTo._slot);
  Atomics.store(w, at + 1, id);
  Atomics.store(w, TAIL, tail + 1);
  unguard(w);
  return {
    withdraw(): boolean {
      guard(w);
      const head = Atomics.load(w, HEAD);
      const end = Atomics.load(w, TAIL);
      for (let i = head; i < end; i++) {
        const e = RING + 2 * (i % SHARED_CO_MUTEX_WAITERS);
        if (Atomics.load(w, e + 1) === id && Atomics.load(w, e) === replyTo._slot) {
          Atomics.store(w, e + 1, 0);
          unguard(w);
          forgetReply(id);
          return true;
        }
      }
      unguard(w);
      return false; // already handed over: the grant is on its way
    },
  };
}

/** Releases, handing the mutex to the oldest live waiter if any. */
export function sharedUnlock(w: Int32Array, table: WakeTable): void {
  if (Atomics.load(w, LOCKED) === 0) throw new AioError('ERR_AIO_NOT_OWNER', 'CoMutex.unlock(): the mutex is not locked');
  for (;;) {
    guard(w);
    let slot = 0;
    let id = 0;
    let head = Atomics.load(w, HEAD);
    const tail = Atomics.load(w, TAIL);
    while (head < tail && id === 0) {
      const e = RING + 2 * (head % SHARED_CO_MUTEX_WAITERS);
      slot = Atomics.load(w, e);
      id = Atomics.load(w, e + 1);
      head++;
    }
    Atomics.store(w, HEAD, head);
    if (id === 0) {
      Atomics.store(w, LOCKED, 0);
      unguard(w);
      return;
    }
    unguard(w);
    // A waiter whose context is gone (its thread ended) is skipped: hand to the next one.
    // So is a slot out of range, which only corrupt memory holds.
    if (slot < 0 || slot >= SLOTS) continue;
    const generation = table.generation(slot);
    if (generation === 0) continue;
    sendRecord(table, slot, generation, [RESULT, id, 2, 0], true, null, 'CoMutex.unlock()');
    return;
  }
}
