/**
 * The context lock (QEMU's aio_context_acquire/aio_context_release): a recursive lock in
 * the context's wake-table slot, so every thread holding the context's handle can take
 * it. The context's own loop holds it while it dispatches and releases it while it
 * sleeps, so a thread that holds it excludes the loop.
 *
 * Lock order (the seed's rule): only the main thread (which holds the main loop, QEMU's
 * global mutex) may hold two contexts' locks at once. In debug mode (`setAioDebug(true)`,
 * or AIO_DEBUG=1 in the environment) a thread that is not the main one and already holds
 * one context's lock gets ERR_AIO_LOCK_ORDER when it takes another's.
 *
 * Methods: any thread that has the context or its handle.
 */
import { AioError, checkBoolean } from './errors.js';
import type { AbortSignalLike } from './locks/futex.js';
import { RecMutex, RecMutexWord } from './locks/rec-mutex.js';
import { threadId } from './locks/thread-id.js';
import { getHost } from './host.js';
import { Slot, type WakeTable } from './shared-memory.js';

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

  constructor(table: WakeTable, slot: number, name: string) {
    this.#mutex = RecMutex.from({ kind: 'aio.RecMutex', sab: table.sab, index: table.base(slot) + Slot.Lock });
    this.#name = name;
  }

  #checkOrder(): void {
    if (mainThread || !(debug ??= getHost().env?.('AIO_DEBUG') === '1') || this.#mine()) return;
    const other = held.find((l) => l !== this);
    if (other) {
      throw new AioError(
        'ERR_AIO_LOCK_ORDER',
        `lock order: this thread holds AioContext '${other.#name}' and takes AioContext '${this.#name}'; only the main thread may hold two context locks`,
      );
    }
  }

  #mine(): boolean {
    return Atomics.load(this.#mutex._f.mem, this.#mutex._b + RecMutexWord.Owner) === threadId();
  }

  #took(): void {
    held.push(this);
  }

  acquire(): void {
    this.#checkOrder();
    this.#mutex.lock();
    this.#took();
  }

  tryAcquire(): boolean {
    this.#checkOrder();
    if (!this.#mutex.tryLock()) return false;
    this.#took();
    return true;
  }

  async acquireAsync(signal?: AbortSignalLike): Promise<void> {
    this.#checkOrder();
    await this.#mutex.lockAsync(signal);
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
    if (!this.#mine()) return 0;
    const f = this.#mutex._f.mem;
    const depth = Atomics.load(f, this.#mutex._b + RecMutexWord.Depth);
    Atomics.store(f, this.#mutex._b + RecMutexWord.Depth, 1);
    this.#mutex.unlock();
    return depth;
  }

  /** Takes the lock back after drop() with the same depth, blocking. */
  retake(depth: number): void {
    if (depth === 0) return;
    this.#mutex.lock();
    Atomics.store(this.#mutex._f.mem, this.#mutex._b + RecMutexWord.Depth, depth);
  }

  /** Takes the lock back after drop() without blocking the thread. */
  async retakeAsync(depth: number): Promise<void> {
    if (depth === 0) return;
    if (!this.#mutex.tryLock()) await this.#mutex.lockAsync();
    Atomics.store(this.#mutex._f.mem, this.#mutex._b + RecMutexWord.Depth, depth);
  }
}
