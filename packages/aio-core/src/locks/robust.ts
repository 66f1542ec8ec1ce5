/**
 * Robust locks: what happens when a thread ends holding a lock (Mutex, RecMutex, the
 * context lock, LockCnt; the shared CoMutex has its own hand-off, shared-co-mutex.ts).
 *
 * Ended threads are recorded by id (thread-id.ts) in the thread group's wake table by
 * the thread that sees them end: IOThreads and pool workers by their creator; on Node
 * every `worker_threads` Worker (aio-node watches their creation); on Bun, Deno and
 * browsers workers started with `startWorker()`. The creator records the end when its
 * event loop runs: a creator blocked in a synchronous wait does not see it.
 *
 * A locker that has waited ROBUST_CHECK_MS looks at the owner word (a Mutex's lock word,
 * which names its holder): if its owner is dead, it takes the owner word over with a
 * compare-and-swap (so exactly one waiter wins), holds the lock, and gets OwnerDiedError,
 * like a robust pthread mutex's EOWNERDEAD. The lock's state is otherwise left as the
 * dead owner left it (locked, maybe with waiters), so the new owner's unlock wakes the
 * others as usual. Uncontended paths never look.
 *
 * Owns: the bounded waits and the takeover, and `RobustLock`, the base of the lock classes
 * with an owner word, which runs their contended paths that way.
 */
import { AioError, OwnerDiedError } from '../base/errors.js';
import { wakeTable } from '../base/shared-memory.js';
import { type AbortSignalLike, type FutexOps, type Replay, runAsync, runTimed } from './futex.js';
import { type LockKind, SharedLock, checkSignal } from './handle.js';
import { threadId } from './thread-id.js';

/** How long a locker waits before it checks whether the owner died. */
export const ROBUST_CHECK_MS = 25;

/**
 * The bits of an owner word that name the owner. The sign bit is the lock's own: Mutex
 * names its holder in its lock word and keeps its waiters flag there (mutex.ts).
 */
export const OWNER_BITS = 0x7fffffff;

/**
 * If the owner recorded at `mem[ownerIndex]` is dead, makes `me` the owner and returns
 * true (exactly one caller wins for a given dead owner). Any thread.
 */
function takeOverFromDead(mem: Int32Array, ownerIndex: number, me: number): boolean {
  for (;;) {
    const word = Atomics.load(mem, ownerIndex);
    const owner = word & OWNER_BITS;
    if (owner === 0 || owner === me || !wakeTable().isThreadDead(owner)) return false;
    // Keeps the other bits (a Mutex's waiters flag: its sleepers still wait). The exchange
    // fails if a locker flagged the word meanwhile (look again) or another locker took
    // it over (the next look sees a live owner).
    if (Atomics.compareExchange(mem, ownerIndex, word, (word & ~OWNER_BITS) | me) === word) return true;
  }
}

/**
 * Runs the blocking lock attempt `op` with a deadline `ms` from now (`Infinity`: none), in
 * slices of ROBUST_CHECK_MS; after each slice that did not lock, `checkOwner()` runs (it
 * throws when it took the lock over from a dead owner). Returns whether `op` locked. This
 * thread only.
 */
function runRobust(ms: number, what: string, op: () => boolean, checkOwner: () => void): boolean {
  const end = ms === Infinity ? Infinity : performance.now() + ms;
  for (;;) {
    const slice = ms === Infinity ? ROBUST_CHECK_MS : Math.max(0, Math.min(end - performance.now(), ROBUST_CHECK_MS));
    if (runTimed(slice, what, op)) return true;
    checkOwner();
    if (ms !== Infinity && performance.now() >= end) return false;
  }
}

/** An abort signal that fires after `ms`, or when `parent` does; for bounded async waits. */
class DeadlineSignal implements AbortSignalLike {
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

/** One attempt at taking a robust lock for `me`; false when its cancellable wait gave up. */
export type LockStep = (f: FutexOps, b: number, me: number) => boolean;

/** A wait for the lock at `b` to be free, taking nothing; false when its cancellable wait gave up. */
export type FreeStep = (f: FutexOps, b: number) => boolean;

/**
 * The base of the lock classes with an owner word (Mutex, RecMutex, LockCnt): the bodies
 * of their contended paths, in bounded waits after each of which a dead owner is taken
 * over (OwnerDiedError, the caller holding the lock). @internal
 */
export abstract class RobustLock<K extends string> extends SharedLock<K> {
  readonly #name: string;
  /** Index of the owner word, from `_b`. */
  readonly #owner: number;

  /** Takes its words as SharedLock does; the owner's thread id is at `_b + ownerWord`. @internal */
  protected constructor(lock: LockKind<K>, ownerWord: number) {
    super(lock);
    this.#name = lock.name;
    this.#owner = ownerWord;
  }

  /** Whether the calling thread holds the lock. Any thread. @internal */
  _heldByMe(): boolean {
    return (Atomics.load(this._f.mem, this._b + this.#owner) & OWNER_BITS) === threadId();
  }

  /**
   * Runs `step` (blocking) for at most `ms` milliseconds (`Infinity`: no limit), checking
   * for a dead owner after each bounded wait; returns whether it locked. `what` names the
   * operation in ERR_AIO_CANNOT_BLOCK. The calling thread. @internal
   */
  protected _lockRobust(ms: number, what: string, step: LockStep): boolean {
    const f = this._f;
    const b = this._b;
    const me = threadId();
    return runRobust(ms, what, () => step(f, b, me), () => this.#checkOwnerDied(me));
  }

  /**
   * The body of `lockAsync(signal)`: checks `signal`, then runs `step` without blocking
   * the thread, in bounded waits as `_lockRobust`; rejects with `signal.reason` if it
   * aborts first. The calling thread. @internal
   */
  protected _lockAsync(signal: AbortSignalLike | undefined, step: LockStep): Promise<void> {
    const mem = this._f.mem;
    const b = this._b;
    const me = threadId();
    return this.#inBoundedWaits(
      signal,
      (r) => step(r.view(mem), b, me),
      () => this.#checkOwnerDied(me),
    );
  }

  /**
   * The body of `waitForUnlock(signal)`: checks `signal`, then runs `step` without blocking
   * the thread, in bounded waits as `_lockAsync`. A holder that died is not taken over
   * (that is a locker's job, which then learns of it): the wait fails with AioError
   * 'ERR_AIO_OWNER_DIED', since the lock stays held until a locker comes. The calling
   * thread. @internal
   */
  protected _waitForUnlockAsync(signal: AbortSignalLike | undefined, step: FreeStep): Promise<void> {
    const mem = this._f.mem;
    const b = this._b;
    const me = threadId();
    return this.#inBoundedWaits(
      signal,
      (r) => step(r.view(mem), b),
      () => {
        const owner = Atomics.load(mem, b + this.#owner) & OWNER_BITS;
        if (owner !== 0 && owner !== me && wakeTable().isThreadDead(owner)) {
          throw new AioError(
            'ERR_AIO_OWNER_DIED',
            `${this.#name}.waitForUnlock(): the thread that held it died; it stays locked until a locker takes it over`,
          );
        }
      },
    );
  }

  /**
   * Checks `signal`, then runs `attempt` without blocking the thread until it succeeds, in
   * waits bounded at ROBUST_CHECK_MS with `between()` after each (the look for a holder
   * that died, which no wake-up announces); rejects with `signal.reason` if it aborts, or
   * with what `between()` throws.
   */
  async #inBoundedWaits(signal: AbortSignalLike | undefined, attempt: (r: Replay<Int32Array>) => boolean, between: () => void): Promise<void> {
    checkSignal('signal', signal);
    if (signal?.aborted) throw signal.reason;
    for (;;) {
      const bounded = new DeadlineSignal(ROBUST_CHECK_MS, signal);
      try {
        if (await runAsync(attempt, bounded)) return;
      } catch (err) {
        if (err !== DeadlineSignal.EXPIRED) throw err;
      } finally {
        bounded.dispose();
      }
      between();
    }
  }

  /** Runs when this thread has just taken the lock over from a dead owner, before OwnerDiedError is thrown. @internal */
  protected _tookOver(): void {}

  #checkOwnerDied(me: number): void {
    if (!takeOverFromDead(this._f.mem, this._b + this.#owner, me)) return;
    this._tookOver();
    throw new OwnerDiedError(this.#name);
  }
}
