/**
 * The context lock (QEMU's aio_context_acquire/aio_context_release): a recursive lock in
 * the context's wake-table slot, so every thread holding the context's handle can take
 * it. The context's own loop holds it while it dispatches and releases it while it
 * sleeps, so a thread that holds it excludes the loop.
 *
 * Lock order, so that no two threads each wait for a context the other holds: only the
 * main thread (which holds the main loop, QEMU's global mutex) may hold two contexts'
 * locks at once. In debug mode (`setAioDebug(true)`, or AIO_DEBUG=1 in the environment) a
 * thread that is not the main one and already holds one context's lock gets
 * ERR_AIO_LOCK_ORDER when it takes another's.
 *
 * Robust (robust.ts): a thread that takes the lock over from a thread that ended holding
 * it is told with OwnerDiedError and holds it. The context's own loop is not stopped by
 * that: where it takes its lock back (retake after a sleep, and the IOThread loop's
 * acquire) it goes on holding it, and every takeover is counted in the slot's
 * LockOwnerDeaths word, which `IOThread.stats().lockOwnerDeaths` reports to the creator.
 *
 * Methods: any thread that has the context or its handle.
 */
import { AioError, OwnerDiedError, checkBoolean } from '../base/errors.js';
import type { AbortSignalLike } from '../locks/futex.js';
import { RecMutex } from '../locks/rec-mutex.js';
import { getHost } from '../base/host.js';
import { Slot, type WakeTable } from '../base/shared-memory.js';

/**
 * Debug mode; undefined until first needed, then read from AIO_DEBUG through the host.
 * Not at import: the adapter's host (which knows how to ask without a permission prompt)
 * is installed after this module runs, and importing must need no permission.
 */
let debug: boolean | undefined;
let mainThread = true;
/** Context locks this thread holds, by context name, innermost last. */
const held: ContextLock[] = [];

/** Turns the lock-order check on or off for this thread. Any thread (its own setting). */
export function setAioDebug(on: boolean): void {
  checkBoolean('on', on);
  debug = on;
}

/** Marks this thread as not the main one (IOThreads and pool workers). @internal */
export function markNotMainThread(): void {
  mainThread = false;
}

/** The lock of one context, seen from one thread. */
export class ContextLock {
  readonly #mutex: RecMutex;
  readonly #name: string;
  readonly #words: Int32Array;
  readonly #deaths: number;

  constructor(table: WakeTable, slot: number, name: string) {
    this.#mutex = RecMutex.from({ kind: 'aio.RecMutex', sab: table.sab, index: table.base(slot) + Slot.Lock });
    this.#name = name;
    this.#words = table.words;
    this.#deaths = table.base(slot) + Slot.LockOwnerDeaths;
  }

  #checkOrder(): void {
    if (mainThread || !(debug ??= getHost().env?.('AIO_DEBUG') === '1') || this.#mutex._heldByMe()) return;
    const other = held.find((l) => l !== this);
    if (other) {
      throw new AioError(
        'ERR_AIO_LOCK_ORDER',
        `lock order: this thread holds AioContext '${other.#name}' and takes AioContext '${this.#name}'; only the main thread may hold two context locks`,
      );
    }
  }

  #took(): void {
    held.push(this);
  }

  /** Counts a takeover from a dead owner (the caller holds the lock now) and says whether `err` was one. */
  #tookOver(err: unknown): boolean {
    if (!(err instanceof OwnerDiedError)) return false;
    // Read by IOThread.stats() in the creator's thread; nothing else orders against it.
    Atomics.add(this.#words, this.#deaths, 1);
    return true;
  }

  /** Takes the lock, blocking; OwnerDiedError (holding it) after a dead owner. */
  acquire(): void {
    this.#checkOrder();
    try {
      this.#mutex.lock();
    } catch (err) {
      if (this.#tookOver(err)) this.#took();
      throw err;
    }
    this.#took();
  }

  tryAcquire(): boolean {
    this.#checkOrder();
    if (!this.#mutex.tryLock()) return false;
    this.#took();
    return true;
  }

  /** Takes the lock without blocking the thread; OwnerDiedError (holding it) after a dead owner. */
  async acquireAsync(signal?: AbortSignalLike): Promise<void> {
    this.#checkOrder();
    try {
      await this.#mutex.lockAsync(signal);
    } catch (err) {
      if (this.#tookOver(err)) this.#took();
      throw err;
    }
    this.#took();
  }

  release(): void {
    this.#mutex.unlock();
    const i = held.lastIndexOf(this);
    if (i >= 0) held.splice(i, 1);
  }

  /**
   * If this thread holds the lock, releases every level and returns how many there were
   * (the loop does this before it sleeps); else returns 0.
   */
  drop(): number {
    return this.#mutex._unlockAll();
  }

  /**
   * Takes the lock back after drop() with the same depth, blocking. A dead owner met on
   * the way is counted, not thrown: the loop goes on.
   */
  retake(depth: number): void {
    if (depth === 0) return;
    try {
      this.#mutex.lock();
    } catch (err) {
      if (!this.#tookOver(err)) throw err;
    }
    this.#mutex._setDepth(depth);
  }

  /** Takes the lock back after drop() without blocking the thread; a dead owner as in retake(). */
  async retakeAsync(depth: number): Promise<void> {
    if (depth === 0) return;
    if (!this.#mutex.tryLock()) {
      try {
        await this.#mutex.lockAsync();
      } catch (err) {
        if (!this.#tookOver(err)) throw err;
      }
    }
    this.#mutex._setDepth(depth);
  }
}
