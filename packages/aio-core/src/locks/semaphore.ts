/**
 * Semaphore: QEMU's QemuSemaphore (a counting semaphore) in shared memory.
 *
 * Owns: the semaphore algorithm, a futex counter plus a sleeper count.
 *
 * Words (from the handle's index):
 *   0 count    available units, 0 .. 2^31 - 1; the futex word waiters sleep on (while 0)
 *   1 waiters  threads between announcing a sleep and finishing it, so post() can skip
 *              the notify when nobody may sleep
 *
 * No lost wake-up: a waiter increments `waiters` before it sleeps, and sleeps only while
 * `count` is still 0; post() increments `count` before it reads `waiters`. Whichever of
 * the two comes second sees the other's write.
 */
import { AioError, checkInteger } from '../base/errors.js';
import { type AbortSignalLike, type FutexOps, cannotBlock } from './futex.js';
import { type LockHandle, SharedLock, fromHandle, lockKind } from './handle.js';

/** Word offsets of the semaphore layout. @internal */
const SemaphoreWord = { Count: 0, Waiters: 1, Size: 2 } as const;

const COUNT = 0;
const WAITERS = 1;
const MAX_COUNT = 0x7fffffff;

// ---------------------------------------------------------------------------------------
// Algorithm (deterministic, see futex.ts)

/** Adds one unit to the semaphore at `b` and wakes a sleeper if one may sleep. @internal */
export function semPost(f: FutexOps, b: number): void {
  let c = f.load(b + COUNT);
  for (;;) {
    if (c >= MAX_COUNT) {
      throw new AioError('ERR_AIO_UNBALANCED', `Semaphore.post(): the count would exceed ${MAX_COUNT} (posts far outnumber waits)`);
    }
    // Pairs with the compareExchange in semWait() and with its wait on `count` == 0.
    const seen = f.compareExchange(b + COUNT, c, c + 1);
    if (seen === c) break;
    c = seen;
  }
  // Pairs with the add to `waiters` in semWait(): see the file comment.
  if (f.load(b + WAITERS) > 0) f.notify(b + COUNT, 1);
}

/**
 * Takes one unit from the semaphore at `b`, sleeping while there is none. Returns false
 * if a cancellable wait gave up (nothing taken). @internal
 */
export function semWait(f: FutexOps, b: number, cancellable: boolean): boolean {
  for (;;) {
    const c = f.load(b + COUNT);
    if (c > 0) {
      // Pairs with the compareExchange in semPost() and in other waiters.
      if (f.compareExchange(b + COUNT, c, c - 1) === c) return true;
      continue;
    }
    // Announce the sleep before checking `count` again inside the wait; pairs with the
    // load of `waiters` in semPost().
    f.add(b + WAITERS, 1);
    const r = f.wait(b + COUNT, 0, cancellable);
    f.sub(b + WAITERS, 1);
    if (r === 'timed-out') {
      // The post that woke us (an abort can land after the wake-up) may be the only one
      // coming: if its unit is still there, hand the wake-up to another sleeper.
      if (f.load(b + COUNT) > 0) f.notify(b + COUNT, 1);
      return false;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Class

/** The structured-cloneable form of a {@link Semaphore}. */
export type SemaphoreHandle = LockHandle<'aio.Semaphore'>;

const SEMAPHORE = lockKind('Semaphore', SemaphoreWord.Size);
/** The wait of wait(), timedWait() and waitAsync(). */
const waitStep = (f: FutexOps, b: number): boolean => semWait(f, b, true);

/**
 * A counting semaphore in shared memory (QemuSemaphore). Any thread.
 *
 * @example
 * ```ts
 * import { Semaphore } from 'aio-node';
 *
 * const slots = new Semaphore(2); // two at a time
 * await slots.waitAsync(); // or wait() where the thread may block
 * try {
 *   // ... use one of the slots
 * } finally {
 *   slots.post();
 * }
 * ```
 */
export class Semaphore extends SharedLock<'aio.Semaphore'> {
  /**
   * Creates a semaphore holding `initial` units (qemu_sem_init), an integer in
   * [0, 2^31 - 1]; throws a RangeError naming "initial" otherwise. Any thread.
   */
  constructor(initial: number) {
    checkInteger('initial', initial, 0, MAX_COUNT);
    super(SEMAPHORE, (mem, b) => {
      mem[b + COUNT] = initial;
    });
  }

  /**
   * Rebuilds a semaphore from its handle; throws ERR_AIO_BAD_HANDLE if `handle` is not a
   * Semaphore handle. Any thread.
   */
  static from(handle: SemaphoreHandle): Semaphore {
    return fromHandle(SEMAPHORE, handle, () => new Semaphore(0));
  }

  /** Adds one unit, waking one waiter if any (qemu_sem_post). Never blocks. Any thread. */
  post(): void {
    semPost(this._f, this._b);
  }

  /**
   * Takes one unit, blocking while there is none (qemu_sem_wait). Throws
   * ERR_AIO_CANNOT_BLOCK if it would have to wait in a thread that may not block. Any
   * thread.
   */
  wait(): void {
    if (!waitStep(this._f, this._b)) cannotBlock('Semaphore.wait()');
  }

  /**
   * Takes one unit, waiting at most `ms` milliseconds (0: only if one is there now, as
   * qemu_sem_timedwait; `Infinity`: no limit). Returns false on timeout. Any thread.
   */
  timedWait(ms: number): boolean {
    return this._timedWait(ms, waitStep);
  }

  /**
   * Takes one unit without blocking the thread; resolves once taken. If `signal` aborts
   * first, rejects with `signal.reason` having taken nothing. Any thread.
   */
  waitAsync(signal?: AbortSignalLike): Promise<void> {
    return this._waitAsync(signal, waitStep);
  }

  /** The number of units available now (a snapshot). Any thread. */
  value(): number {
    return Atomics.load(this._f.mem, this._b + COUNT);
  }
}
