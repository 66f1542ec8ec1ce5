/**
 * A CoMutex used from several threads (through its handle): how its shared state
 * (co-mutex-ring.ts: the lock-state words and the waiter ring, under a short lock) meets
 * the contexts of the threads that wait on it.
 *
 * A locker that finds the mutex held appends itself and waits; `unlock()` pops the oldest
 * live waiter and sends it a HANDOFF record through its context's inbox (hand-off.ts),
 * keeping the mutex locked, so nobody can barge in between (QEMU's hand-off). The waiter resumes in its own
 * thread's context, in that context's poll. Any thread holding the handle.
 *
 * Robust (robust.ts): while a context of this thread has waiters queued on a shared mutex,
 * a timer of that context looks every ROBUST_CHECK_MS at the holder word; when the holder's
 * thread is recorded as dead, the mutex is handed to the oldest live waiter as if the
 * holder had unlocked, and that waiter's lock() fails with OwnerDiedError while holding
 * the mutex. A waiter that dies after it was handed the mutex is a dead holder like any
 * other. A check costs nothing while nobody waits, and one timer per waiting context.
 */
import { Clock, clockNs, SCALE_MS } from '../loop/clock.js';
import type { AioContext } from '../loop/context.js';
import { AioError } from '../base/errors.js';
import { expectHandOff, forgetHandOff, sendHandOff } from '../threads/hand-off.js';
import { LoopAtomicsOps } from '../locks/atomics-ops.js';
import { type AbortSignalLike, runAsync } from '../locks/futex.js';
import { ROBUST_CHECK_MS } from '../locks/robust.js';
import { shortLock, shortUnlock } from '../locks/short-lock.js';
import { threadId } from '../locks/thread-id.js';
import { SLOTS, type WakeTable, allocShared } from '../base/shared-memory.js';
import type { Timer } from '../loop/timer.js';
import {
  CO_MUTEX_ENTRY,
  CoLockResult,
  CoMutexWord,
  type RingHooks,
  coAwaitFree,
  coHandOff,
  coHolderDied,
  coLockOrEnqueue,
  coLocked,
  coTryLock,
  coWithdraw,
} from './co-mutex-ring.js';

/** Waiters that may queue at once on one shared CoMutex. */
const SHARED_CO_MUTEX_WAITERS = 1024;

/** Bytes of a shared CoMutex's memory. */
export const SHARED_CO_MUTEX_BYTES = (CoMutexWord.Ring + CO_MUTEX_ENTRY * SHARED_CO_MUTEX_WAITERS) * 4;

/**
 * One thread's view of a shared CoMutex: its words, the wake table of its waiters'
 * contexts, and the hooks its ring algorithms use. The thread that made it.
 */
export class SharedCoMutex implements RingHooks {
  readonly f: LoopAtomicsOps;
  readonly table: WakeTable;

  /** Over `words` (a shared CoMutex's memory), with waiters' contexts in `table`. */
  constructor(words: Int32Array, table: WakeTable) {
    this.f = new LoopAtomicsOps(words);
    this.table = table;
  }

  /** Allocates a shared CoMutex; a locked one is held by the calling thread. */
  static alloc(locked: boolean, table: WakeTable): SharedCoMutex {
    const m = new SharedCoMutex(new Int32Array(allocShared(SHARED_CO_MUTEX_BYTES)), table);
    if (locked) coTryLock(m.f, threadId());
    return m;
  }

  /** Takes the ring's guard (RingHooks). The calling thread. */
  guard(): void {
    // A thread that ended inside the guard may have left one ring update half done (a
    // waiter it was popping is then never handed the mutex); the others go on from what
    // it wrote, where they would all hang without the takeover.
    shortLock(this.f, CoMutexWord.Guard, CoMutexWord.GuardOwner, this.table);
  }

  /** Releases the ring's guard (RingHooks). The thread holding it. */
  unguard(): void {
    shortUnlock(this.f, CoMutexWord.Guard, CoMutexWord.GuardOwner);
  }

  /** Hands the mutex to a popped waiter through its context's inbox (RingHooks). The thread handing it on. */
  handTo(slot: number, id: number, thread: number, ownerDied: boolean): boolean {
    return handOff(this.table, slot, id, thread, ownerDied);
  }
}

/** Takes the mutex if free. */
export function sharedTryLock(m: SharedCoMutex): boolean {
  return coTryLock(m.f, threadId());
}

/** True while held. */
export function sharedLocked(m: SharedCoMutex): boolean {
  return coLocked(m.f);
}

/**
 * Resolves once the mutex is seen free, taking nothing, without blocking the thread;
 * rejects with `signal.reason` if it aborts first.
 */
export async function sharedWaitForUnlock(m: SharedCoMutex, signal: AbortSignalLike | undefined): Promise<void> {
  if (coLocked(m.f)) await runAsync((r) => coAwaitFree(r.view(m.f.mem), true), signal);
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
export function sharedLockOrQueue(m: SharedCoMutex, granted: (outcome: boolean | Error) => void): SharedTicket | null {
  if (sharedTryLock(m)) return null;
  const table = m.table;
  let watch: HolderWatch | null = null;
  const { id, context: replyTo } = expectHandOff(table, 'CoMutex.lock()', (outcome) => {
    watch?.remove(m);
    if (typeof outcome === 'boolean') return granted(outcome);
    // No grant will come (this thread's context is closing): leave the queue, or, if the
    // mutex was already handed here, pass it on; the waiter fails with the error.
    if (!coWithdraw(m.f, m, SHARED_CO_MUTEX_WAITERS, replyTo._slot, id)) sharedUnlock(m, false);
    granted(outcome);
  });
  const done = coLockOrEnqueue(m.f, m, SHARED_CO_MUTEX_WAITERS, threadId(), replyTo._slot, id);
  if (done === CoLockResult.Taken) {
    forgetHandOff(id);
    return null;
  }
  if (done === CoLockResult.Full) {
    forgetHandOff(id);
    throw new AioError('ERR_AIO_BUSY', `CoMutex.lock(): more than ${SHARED_CO_MUTEX_WAITERS} waiters on one shared CoMutex`);
  }
  watch = HolderWatch.of(replyTo);
  watch.add(m);
  return {
    withdraw(): boolean {
      // Already handed over: the grant is on its way.
      if (!coWithdraw(m.f, m, SHARED_CO_MUTEX_WAITERS, replyTo._slot, id)) return false;
      forgetHandOff(id);
      watch!.remove(m);
      return true;
    },
  };
}

/**
 * Releases, handing the mutex to the oldest live waiter if any; `ownerDied` passes on a
 * takeover from a dead holder that a waiter which left could not report.
 */
export function sharedUnlock(m: SharedCoMutex, ownerDied = false): void {
  if (!coLocked(m.f)) throw new AioError('ERR_AIO_NOT_OWNER', 'CoMutex.unlock(): the mutex is not locked');
  m.guard();
  coHandOff(m.f, m, SHARED_CO_MUTEX_WAITERS, ownerDied);
}

/**
 * Hands the mutex to the waiter popped off the ring (`slot`, `id`, `thread`), telling it
 * `ownerDied`; false when the waiter's context is gone but its thread lives on (the
 * mutex then goes to the next waiter).
 */
function handOff(table: WakeTable, slot: number, id: number, thread: number, ownerDied: boolean): boolean {
  // A slot out of range is only in corrupt memory: skipped like a context that is gone.
  const generation = slot >= 0 && slot < SLOTS ? table.generation(slot) : 0;
  if (generation !== 0) {
    sendHandOff({ table, slot, generation }, id, ownerDied);
    return true;
  }
  // A waiter that died queued (its context was reclaimed) is handed the mutex all the
  // same: it holds it for the next locker, who is told, as after any holder's death.
  if (thread !== 0 && table.isThreadDead(thread)) return true;
  // A waiter whose context is gone (its thread ended) is skipped: hand to the next one.
  return false;
}

/**
 * If the holder's thread is recorded as dead, hands the mutex on as its unlock would have,
 * telling the next holder. Exactly one caller acts for a given dead holder. Any thread.
 */
function takeOverFromDeadHolder(m: SharedCoMutex): void {
  if (coHolderDied(m.f, m, m.table)) coHandOff(m.f, m, SHARED_CO_MUTEX_WAITERS, true);
}

/**
 * The shared mutexes one context of this thread has waiters queued on, and the timer
 * that checks their holders while there are any. Home thread of the context.
 */
class HolderWatch {
  static readonly #byContext = new WeakMap<AioContext, HolderWatch>();
  readonly #timer: Timer;
  /** Queued waiters per mutex. */
  readonly #mutexes = new Map<SharedCoMutex, number>();

  private constructor(ctx: AioContext) {
    this.#timer = ctx.timer(Clock.Realtime, SCALE_MS, () => this.#check());
  }

  static of(ctx: AioContext): HolderWatch {
    let watch = HolderWatch.#byContext.get(ctx);
    if (!watch) HolderWatch.#byContext.set(ctx, (watch = new HolderWatch(ctx)));
    return watch;
  }

  add(m: SharedCoMutex): void {
    this.#mutexes.set(m, (this.#mutexes.get(m) ?? 0) + 1);
    if (!this.#timer.pending()) this.#arm();
  }

  remove(m: SharedCoMutex): void {
    const waiters = this.#mutexes.get(m);
    if (waiters === undefined) return;
    if (waiters > 1) return void this.#mutexes.set(m, waiters - 1);
    this.#mutexes.delete(m);
    // A pending timer would keep the context from closing.
    if (this.#mutexes.size === 0) this.#timer.del();
  }

  #arm(): void {
    this.#timer.modNs(clockNs(Clock.Realtime) + ROBUST_CHECK_MS * SCALE_MS);
  }

  #check(): void {
    for (const m of this.#mutexes.keys()) takeOverFromDeadHolder(m);
    if (this.#mutexes.size > 0) this.#arm();
  }
}
