/**
 * RecMutex: QEMU's QemuRecMutex (a recursive mutex) in shared memory.
 *
 * Owns: the recursion bookkeeping on top of the lock word of mutex.ts.
 *
 * Words (from the handle's index):
 *   0 state  the mutex lock word with the anonymous holder (MutexValue), see mutex.ts
 *   1 owner  threadId() of the holder, 0 when free
 *   2 depth  how many times the holder has locked it; touched only by the holder
 *
 * Recursion is per thread: a thread that holds it locks it again at once, also from
 * another async task of the same thread (as `AioContext.acquire()` behaves).
 */
import { type LockStep, RobustLock } from './robust.js';
import type { AbortSignalLike, FutexOps } from './futex.js';
import { type LockHandle, checkMs, fromHandle, lockKind } from './handle.js';
import { MutexValue, freeStep, mutexAcquire, mutexRelease, notOwnerError } from './mutex.js';
import { type LockGuard, guardOf, guardOfAsync, runExclusive } from './guard.js';
import { threadId } from './thread-id.js';

/** Word offsets of the recursive-mutex layout. @internal */
const RecMutexWord = { State: 0, Owner: 1, Depth: 2, Size: 3 } as const;

const OWNER = 1;
const DEPTH = 2;
const { Free: FREE, Locked: LOCKED, Contended: CONTENDED } = MutexValue;

// ---------------------------------------------------------------------------------------
// Algorithm (deterministic, see futex.ts)

/** Locks the recursive mutex at `b` for `me`; false if a cancellable wait gave up. @internal */
export function recMutexLock(f: FutexOps, b: number, me: number, cancellable: boolean): boolean {
  // Only `me` can have written `me` here, and it clears the word before releasing, so a
  // plain read tells exactly whether we hold it.
  if (f.read(b + OWNER) === me) {
    f.write(b + DEPTH, f.read(b + DEPTH) + 1);
    return true;
  }
  if (!mutexAcquire(f, b, cancellable)) return false;
  f.write(b + OWNER, me);
  f.write(b + DEPTH, 1);
  return true;
}

/** Locks the recursive mutex at `b` if free or held by `me`. @internal */
export function recMutexTryLock(f: FutexOps, b: number, me: number): boolean {
  if (f.read(b + OWNER) === me) {
    f.write(b + DEPTH, f.read(b + DEPTH) + 1);
    return true;
  }
  if (f.compareExchange(b, 0, 1) !== 0) return false;
  f.write(b + OWNER, me);
  f.write(b + DEPTH, 1);
  return true;
}

/** Undoes one lock by `me`; throws ERR_AIO_NOT_OWNER unless `me` holds it. @internal */
export function recMutexUnlock(f: FutexOps, b: number, me: number, what: string): void {
  if (f.read(b + OWNER) !== me) throw notOwnerError(what);
  const depth = f.read(b + DEPTH);
  if (depth > 1) {
    f.write(b + DEPTH, depth - 1);
    return;
  }
  f.write(b + DEPTH, 0);
  f.write(b + OWNER, 0);
  mutexRelease(f, b);
}

// ---------------------------------------------------------------------------------------
// Class

/** The structured-cloneable form of a {@link RecMutex}. */
export type RecMutexHandle = LockHandle<'aio.RecMutex'>;

const REC_MUTEX = lockKind('RecMutex', RecMutexWord.Size);
/** The contended path of lock() and timedLock(). */
const lockStep: LockStep = (f, b, me) => recMutexLock(f, b, me, true);

/**
 * A recursive mutual-exclusion lock in shared memory (QemuRecMutex): the thread that holds
 * it may lock it again, and must unlock it as many times. Any thread.
 *
 * @example
 * ```ts
 * import { RecMutex } from 'aio-node';
 *
 * const m = new RecMutex();
 * m.lock();
 * m.lock(); // the holder may lock it again...
 * m.unlock();
 * m.unlock(); // ...and unlocks it as many times
 * ```
 */
export class RecMutex extends RobustLock<'aio.RecMutex'> {
  /** Creates a free recursive mutex in new shared memory. Any thread. */
  /** `_f.mem`, for the uncontended paths written on the words directly. */
  readonly #mem: Int32Array;

  constructor() {
    super(REC_MUTEX, OWNER);
    this.#mem = this._f.mem;
  }

  /**
   * Rebuilds a recursive mutex from its handle; throws ERR_AIO_BAD_HANDLE if `handle` is
   * not a RecMutex handle. Any thread.
   */
  static from(handle: RecMutexHandle): RecMutex {
    return fromHandle(REC_MUTEX, handle, () => new RecMutex());
  }

  /**
   * Locks, or adds one level if this thread holds it (qemu_rec_mutex_lock); blocks while
   * another thread holds it. If the holder ended without unlocking (robust.ts), throws
   * OwnerDiedError (ERR_AIO_OWNER_DIED) and the caller then holds it once (depth 1).
   * Throws ERR_AIO_CANNOT_BLOCK if it would have to wait in a thread that may not block.
   * Any thread.
   */
  lock(): void {
    // recMutexTryLock() on the words directly, as Mutex.lock() does: without the FutexOps
    // indirection the model checker needs, the methods of AtomicsOps shared by every lock
    // are not on this path (on Bun their shared profile made it 1.12x slower).
    const mem = this.#mem;
    const b = this._b;
    const me = threadId();
    if (mem[b + OWNER] === me) {
      mem[b + DEPTH] = mem[b + DEPTH]! + 1;
      return;
    }
    // Pairs with the exchange in mutexRelease().
    if (Atomics.compareExchange(mem, b, FREE, LOCKED) === FREE) {
      mem[b + OWNER] = me;
      mem[b + DEPTH] = 1;
      return;
    }
    this._lockRobust(Infinity, 'RecMutex.lock()', lockStep);
  }

  /** A new owner after a dead one holds it once. @internal */
  protected override _tookOver(): void {
    Atomics.store(this._f.mem, this._b + DEPTH, 1);
  }

  /** Locks if free or held by this thread; returns whether it did. Never blocks. Any thread. */
  tryLock(): boolean {
    return recMutexTryLock(this._f, this._b, threadId());
  }

  /**
   * Like `lock()`, but gives up after `ms` milliseconds (`Infinity`: never); returns
   * whether it locked. If the holder ended without unlocking, throws OwnerDiedError (the
   * caller then holds it, depth 1) as soon as that is seen, not at the deadline. Any
   * thread.
   */
  timedLock(ms: number): boolean {
    checkMs('ms', ms);
    return this._lockRobust(ms, 'RecMutex.timedLock()', lockStep);
  }

  /**
   * Undoes one `lock()`; the last one frees it (qemu_rec_mutex_unlock). Throws
   * ERR_AIO_NOT_OWNER, leaving it unchanged, if this thread does not hold it. Any thread
   * (the holder).
   */
  unlock(): void {
    // recMutexUnlock() on the words directly (see lock()).
    const mem = this.#mem;
    const b = this._b;
    if (mem[b + OWNER] !== threadId()) throw notOwnerError('RecMutex.unlock()');
    const depth = mem[b + DEPTH]!;
    if (depth > 1) {
      mem[b + DEPTH] = depth - 1;
      return;
    }
    mem[b + DEPTH] = 0;
    mem[b + OWNER] = 0;
    // Pairs with the acquirers' compareExchange and their wait on the flagged word.
    if (Atomics.exchange(mem, b, FREE) === CONTENDED) Atomics.notify(mem, b, 1);
  }

  /**
   * Locks without blocking the thread; resolves once locked (at once if this thread holds
   * it). If `signal` aborts first, rejects with `signal.reason` without the lock. Rejects
   * with OwnerDiedError, the caller then holding it once, if the holder ended without
   * unlocking. Any thread.
   */
  lockAsync(signal?: AbortSignalLike): Promise<void> {
    return this._lockAsync(signal, lockStep);
  }

  /** True while some thread holds it (a snapshot). Any thread. */
  isLocked(): boolean {
    return Atomics.load(this._f.mem, this._b) !== 0;
  }

  /**
   * Resolves once it is seen free (every level unlocked), without taking it; as
   * `Mutex.waitForUnlock()`, including the instant meaning of "free", the dead holder
   * (AioError 'ERR_AIO_OWNER_DIED') and `signal`. Never resolves while this thread holds it
   * with no other task to unlock it. Any thread.
   */
  waitForUnlock(signal?: AbortSignalLike): Promise<void> {
    return this._waitForUnlockAsync(signal, freeStep);
  }

  /**
   * Runs `fn` holding it (one more level if this thread holds it already): as
   * `Mutex.runExclusive()`, unlocking that level however `fn` ends. Any thread.
   */
  runExclusive<T>(fn: () => T | PromiseLike<T>, signal?: AbortSignalLike): Promise<Awaited<T>> {
    return runExclusive(this, 'RecMutex.runExclusive()', () => this.lockAsync(signal), fn);
  }

  /**
   * Locks as `lock()` does (one more level if this thread holds it) and returns a guard
   * for `using`, which undoes that level when the scope ends; as `Mutex.lockGuard()`.
   * Any thread that may block.
   */
  lockGuard(): LockGuard {
    return guardOf(this, 'RecMutex.lockGuard()', () => this.lock());
  }

  /** Locks as `lockAsync(signal)` does and resolves with a guard for `await using`; as `Mutex.lockGuardAsync()`. Any thread. */
  lockGuardAsync(signal?: AbortSignalLike): Promise<LockGuard> {
    return guardOfAsync(this, 'RecMutex.lockGuardAsync()', this.lockAsync(signal));
  }

  /**
   * If this thread holds it, releases every level at once and returns how many there
   * were; else returns 0. With `_setDepth()`, lets the context loop let go of its context
   * around a sleep and take it back as deep as it was. Any thread. @internal
   */
  _unlockAll(): number {
    if (!this._heldByMe()) return 0;
    const mem = this._f.mem;
    const depth = Atomics.load(mem, this._b + DEPTH);
    Atomics.store(mem, this._b + DEPTH, 1);
    this.unlock();
    return depth;
  }

  /** Sets the depth of a hold just taken (by lock() or its forms) to `depth`. The holder. @internal */
  _setDepth(depth: number): void {
    Atomics.store(this._f.mem, this._b + DEPTH, depth);
  }
}
