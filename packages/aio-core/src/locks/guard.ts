/**
 * Scoped locking, shared by the lock classes (Mutex, RecMutex, Semaphore, CoMutex): the
 * guard that `using g = m.lockGuard()` and `await using g = await m.lockGuardAsync()`
 * hold, and the body of `runExclusive(fn)`.
 *
 * Owns: `LockGuard`, which gives back what it holds exactly once (on dispose or on
 * `release()`, whichever comes first), and the rule these scoped forms follow when the
 * lock was taken over from a holder whose thread died. `lock()`/`lockAsync()` then leave
 * the caller holding the lock with OwnerDiedError, so that it repairs what the lock
 * protects before unlocking; a scoped form has no code of the caller's to run under the
 * lock before its body, and leaving the lock held would hang every later locker. So the
 * scoped forms release the lock again and fail with an AioError 'ERR_AIO_OWNER_DIED'
 * (the OwnerDiedError as its `cause`) without running the body: the death is reported to
 * the caller, and nobody is left waiting on a lock with no holder.
 *
 * The guards use `Symbol.dispose`, which every runtime aio targets has (Node 20, Bun,
 * Deno, Chromium); `await using` accepts a guard with only `Symbol.dispose`.
 */
import { AioError, OwnerDiedError, checkFunction } from '../base/errors.js';

/** What a guard gives back: an unlock of the lock it was taken from. @internal */
export interface Releasable {
  unlock(): void;
}

/**
 * Proof of holding a lock, for `using`: disposing it (at the end of the `using` scope) or
 * calling `release()` unlocks it, exactly once. Dispose it in the thread that took it
 * (a Mutex guard released elsewhere throws ERR_AIO_NOT_OWNER and stays held). Made by
 * `lockGuard()`/`lockGuardAsync()` of the lock classes.
 *
 * @example
 * ```ts
 * import { CoMutex, Mutex } from 'aio-node';
 *
 * const m = new Mutex();
 * {
 *   using held = m.lockGuard(); // blocks while another thread holds it
 *   // ... the critical section; m is unlocked at the end of the block, even on a throw
 * }
 * const co = new CoMutex();
 * {
 *   await using held = await co.lockGuardAsync(AbortSignal.timeout(100));
 *   console.log(held.held, co.isLocked()); // true true
 * }
 * ```
 */
export class LockGuard {
  #lock: Releasable | null;

  /** Holds `lock`, which the caller has just taken. @internal */
  constructor(lock: Releasable) {
    this.#lock = lock;
  }

  /** True until the guard has released its lock. The thread that took it. */
  get held(): boolean {
    return this.#lock !== null;
  }

  /**
   * Unlocks now, ahead of the end of the scope; later calls and the dispose do nothing.
   * If the unlock throws (ERR_AIO_NOT_OWNER: wrong thread), the guard still holds the
   * lock. The thread that took it.
   */
  release(): void {
    const lock = this.#lock;
    if (lock === null) return;
    lock.unlock();
    this.#lock = null;
  }

  /** Same as `release()`: what `using` calls at the end of the scope. The thread that took it. */
  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * What a scoped form throws for `error`, an error of the lock operation it ran: an
 * OwnerDiedError (the caller then holds `lock`) is released and reported as described in
 * the file comment; anything else is passed through as it is.
 */
function afterDeath(lock: Releasable, what: string, error: unknown): unknown {
  if (!(error instanceof OwnerDiedError)) return error;
  lock.unlock();
  return new AioError(
    'ERR_AIO_OWNER_DIED',
    `${what}: the thread that held the lock died; it was taken over and released again (use lock() or lockAsync() to repair what it protects while holding it)`,
    { cause: error },
  );
}

/** The body of a blocking `lockGuard()`: runs `take` (which locks `lock`), then guards it. */
export function guardOf(lock: Releasable, what: string, take: () => void): LockGuard {
  try {
    take();
  } catch (e) {
    throw afterDeath(lock, what, e);
  }
  return new LockGuard(lock);
}

/** The body of `lockGuardAsync()`: waits for `taken` (which locks `lock`), then guards it. */
export async function guardOfAsync(lock: Releasable, what: string, taken: PromiseLike<void>): Promise<LockGuard> {
  try {
    await taken;
  } catch (e) {
    throw afterDeath(lock, what, e);
  }
  return new LockGuard(lock);
}

/**
 * The body of `runExclusive(fn)`: checks `fn`, then runs `take()` (which locks `lock`),
 * then `fn`, and unlocks when `fn` returns, throws, or its promise settles. Resolves with
 * what `fn` resolves with, rejects with what it throws.
 */
export async function runExclusive<T>(lock: Releasable, what: string, take: () => PromiseLike<void>, fn: () => T | PromiseLike<T>): Promise<Awaited<T>> {
  checkFunction('fn', fn);
  try {
    await take();
  } catch (e) {
    throw afterDeath(lock, what, e);
  }
  try {
    return await fn();
  } finally {
    lock.unlock();
  }
}
