/**
 * Robust locks: what happens when the thread holding a Mutex or RecMutex ends without
 * unlocking it. Threads aio starts (IOThreads, pool workers) are recorded as dead in the
 * thread group's wake table when they end, crash or exit. A locker that has waited
 * ROBUST_CHECK_MS looks at the owner word: if its owner is dead, it takes the owner word
 * over with a compare-and-swap (so exactly one waiter wins), holds the lock, and gets
 * OwnerDiedError, like a robust pthread mutex's EOWNERDEAD. The lock's state word is left
 * as the dead owner left it (locked, maybe contended), so the new owner's unlock wakes
 * the others as usual.
 *
 * Threads the program started itself are not tracked; their death is not detected.
 */
import { wakeTable } from '../shared-memory.js';
import type { AbortSignalLike } from './futex.js';

/** How long a locker waits before it checks whether the owner died. */
export const ROBUST_CHECK_MS = 25;

/**
 * If the owner recorded at `mem[ownerIndex]` is dead, makes `me` the owner and returns
 * true (exactly one caller wins for a given dead owner). Any thread.
 */
export function takeOverFromDead(mem: Int32Array, ownerIndex: number, me: number): boolean {
  const owner = Atomics.load(mem, ownerIndex);
  if (owner === 0 || owner === me || !wakeTable().isThreadDead(owner)) return false;
  return Atomics.compareExchange(mem, ownerIndex, owner, me) === owner;
}

/** An abort signal that fires after `ms`, or when `parent` does; for bounded async waits. */
export class DeadlineSignal implements AbortSignalLike {
  aborted = false;
  reason: unknown;
  /** What `reason` is when the deadline (not the parent) fired. */
  static readonly EXPIRED = Symbol('deadline expired');
  readonly #listeners = new Set<() => void>();
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #parent: AbortSignalLike | undefined;
  readonly #onParent = () => this.#fire(this.#parent!.reason);

  constructor(ms: number, parent?: AbortSignalLike) {
    this.#parent = parent;
    this.#timer = setTimeout(() => this.#fire(DeadlineSignal.EXPIRED), ms);
    parent?.addEventListener('abort', this.#onParent, { once: true });
  }

  #fire(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    for (const l of [...this.#listeners]) l();
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.#listeners.add(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.#listeners.delete(listener);
  }

  /** Stops the timer and detaches from the parent. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#parent?.removeEventListener('abort', this.#onParent);
  }
}
