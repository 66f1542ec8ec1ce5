/**
 * Semaphore: QEMU's QemuSemaphore (a counting semaphore) in shared memory, with weighted
 * acquisition on top.
 *
 * Owns: the semaphore algorithms (a futex counter plus a sleeper count) and, per
 * Semaphore object, the line of its weighted async acquires.
 *
 * Words (from the handle's index):
 *   0 count    available units, 0 .. 2^31 - 1; the futex word waiters sleep on
 *   1 waiters  threads between announcing a sleep and finishing it: 1 for each unit
 *              waiter (wait()), WEIGHTED for each weighted one (acquire(n),
 *              waitForUnlock(n)), so that post() can skip the notify when nobody may
 *              sleep, and knows whether to wake one sleeper or all
 *
 * No lost wake-up: a waiter adds itself to `waiters` before it sleeps, and sleeps only
 * while `count` is still what it saw; post() changes `count` before it reads `waiters`.
 * Whichever of the two comes second sees the other's write. A unit waiter sleeps only at
 * count 0 and takes one unit when woken, so waking one per unit posted is enough; a
 * weighted waiter may sleep at any count below its weight and take nothing when woken,
 * so while one is announced, post() wakes every sleeper and each checks again.
 *
 * Order: between threads, none (whoever sees enough units first takes them, and wait()
 * takes one whenever there is one, ahead of any weighted waiter). Within one Semaphore
 * object, weighted acquires are served first come, first served: only the oldest one
 * waits on the shared words, the others wait behind it in the object's line, so a large
 * request is not overtaken by smaller ones made later through the same object. A fair
 * cross-thread line would need a waiter queue in shared memory (as the shared CoMutex
 * has); this counter stays two words.
 */
import { AioError, checkInteger } from '../base/errors.js';
import { type AbortSignalLike, type FutexOps, cannotBlock, runAsync } from './futex.js';
import { type LockGuard, guardOfAsync, runExclusive } from './guard.js';
import { type LockHandle, SharedLock, checkSignal, fromHandle, lockKind } from './handle.js';

/** Word offsets of the semaphore layout. @internal */
const SemaphoreWord = { Count: 0, Waiters: 1, Size: 2 } as const;

const COUNT = 0;
const WAITERS = 1;
const MAX_COUNT = 0x7fffffff;
/** What a weighted waiter adds to `waiters` (unit waiters add 1: fewer than 2^16 threads). */
const WEIGHTED = 0x10000;

// ---------------------------------------------------------------------------------------
// Algorithm (deterministic, see futex.ts)

/**
 * Adds `n` units to the semaphore at `b` and wakes sleepers if any may sleep: `n` of them
 * while only unit waiters are announced, all of them while a weighted one is. Throws
 * ERR_AIO_UNBALANCED, adding nothing, if the count would exceed 2^31 - 1. @internal
 */
export function semPost(f: FutexOps, b: number, n = 1, what = 'Semaphore.post()'): void {
  let c = f.load(b + COUNT);
  for (;;) {
    if (c > MAX_COUNT - n) {
      throw new AioError('ERR_AIO_UNBALANCED', `${what}: the count would exceed ${MAX_COUNT} (posts far outnumber waits)`);
    }
    // Pairs with the compareExchange in semWait()/semAcquire() and with their waits.
    const seen = f.compareExchange(b + COUNT, c, c + n);
    if (seen === c) break;
    c = seen;
  }
  // Pairs with the add to `waiters` in semWait() and semAcquire(): see the file comment.
  const waiters = f.load(b + WAITERS);
  if (waiters > 0) f.notify(b + COUNT, waiters >= WEIGHTED ? Infinity : n);
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

/**
 * Waits until the semaphore at `b` holds at least `n` units, then takes them (`take`) or
 * leaves them (waitForUnlock). Returns false if a cancellable wait gave up (nothing
 * taken). @internal
 */
export function semAcquire(f: FutexOps, b: number, n: number, take: boolean, cancellable: boolean): boolean {
  for (;;) {
    const c = f.load(b + COUNT);
    if (c >= n) {
      if (!take) return true;
      // Pairs with the compareExchange in semPost() and in other waiters.
      if (f.compareExchange(b + COUNT, c, c - n) === c) return true;
      continue;
    }
    // Announced as weighted, so that every post wakes us; pairs with the load of
    // `waiters` in semPost(). Sleeps only while `count` is still what we saw.
    f.add(b + WAITERS, WEIGHTED);
    const r = f.wait(b + COUNT, c, cancellable);
    f.sub(b + WAITERS, WEIGHTED);
    if (r === 'timed-out') {
      // A post that read `waiters` before we announced ourselves wakes one sleeper, maybe
      // us: if units are there, pass the wake-up on (as semWait()).
      if (f.load(b + COUNT) > 0) f.notify(b + COUNT, 1);
      return false;
    }
  }
}

/** Takes `n` units from the semaphore at `b` if it holds that many now. */
function semTryAcquire(f: FutexOps, b: number, n: number): boolean {
  for (;;) {
    const c = f.load(b + COUNT);
    if (c < n) return false;
    if (f.compareExchange(b + COUNT, c, c - n) === c) return true;
  }
}

// ---------------------------------------------------------------------------------------
// Class

/** The structured-cloneable form of a {@link Semaphore}. */
export type SemaphoreHandle = LockHandle<'aio.Semaphore'>;

const SEMAPHORE = lockKind('Semaphore', SemaphoreWord.Size);
/** The wait of wait(), timedWait() and waitAsync(). */
const waitStep = (f: FutexOps, b: number): boolean => semWait(f, b, true);
/** What acquire() returns when it took the units at once. */
const TAKEN: Promise<void> = Promise.resolve();

/** A weighted acquire waiting in a Semaphore object's line. */
interface Acquire {
  readonly n: number;
  readonly signal: AbortSignalLike | undefined;
  resolve(): void;
  reject(reason: unknown): void;
  /** True once it is the oldest and waits on the shared words (its signal is then runAsync's). */
  started: boolean;
}

/** `promise`, or `signal.reason` if `signal` aborts first. */
function abortable(promise: Promise<void>, signal: AbortSignalLike | undefined): Promise<void> {
  if (signal === undefined) return promise;
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/**
 * A counting semaphore in shared memory (QemuSemaphore), with weighted acquisition
 * (`acquire(n)`/`release(n)`): see the file comment of semaphore.ts for the order in
 * which waiters are served. Any thread.
 *
 * @example
 * ```ts
 * import { Semaphore } from 'aio-node';
 *
 * const slots = new Semaphore(4); // Semaphore.from(slots.handle) in other threads
 * await slots.acquire(3); // waits until 3 units are free
 * try {
 *   // ... use them
 * } finally {
 *   slots.release(3);
 * }
 * await slots.runExclusive(async () => {}, 1); // or let it take and give back
 * ```
 */
export class Semaphore extends SharedLock<'aio.Semaphore'> {
  /** This object's weighted acquires still waiting, oldest first (the oldest waits on the words). */
  #line: Acquire[] = [];
  /** Resolves when the line empties, for waitForUnlock(); made on demand. */
  #drained: { promise: Promise<void>; resolve: () => void } | null = null;

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

  /** True when no unit is available now (a snapshot, as `value() === 0`). Any thread. */
  isLocked(): boolean {
    return this.value() === 0;
  }

  /**
   * Takes `n` units (an integer in [1, 2^31 - 1]) without blocking the thread; resolves
   * once taken. Order: the acquires made through this object are served first come,
   * first served; a later, smaller one waits behind an earlier, larger one even when its
   * units are there, so large requests are not starved by small ones. Between threads
   * (and other Semaphore objects of the same memory) there is no order: whichever sees
   * `n` units first takes them, and `wait()`/`waitAsync()` take single units whenever
   * one is there. If `signal` aborts before the units are taken, rejects with
   * `signal.reason` having taken nothing; once taken, an abort is too late. Throws a
   * TypeError/RangeError naming "n" or "signal", changing nothing, for a bad argument.
   * Any thread.
   */
  acquire(n = 1, signal?: AbortSignalLike): Promise<void> {
    checkInteger('n', n, 1, MAX_COUNT);
    checkSignal('signal', signal);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#line.length === 0 && semTryAcquire(this._f, this._b, n)) return TAKEN;
    return new Promise<void>((resolve, reject) => {
      const a: Acquire = { n, signal, resolve, reject, started: false };
      if (signal !== undefined) {
        const onAbort = () => {
          // The oldest one (never removed here: the line is never empty behind it) hears
          // its abort through its wait, which passes on what it was woken for.
          if (a.started) return;
          this.#line.splice(this.#line.indexOf(a), 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        a.resolve = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        a.reject = (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        };
      }
      this.#line.push(a);
      if (this.#line.length === 1) void this.#serve();
    });
  }

  /** Runs the line: the oldest acquire waits on the shared words until served or aborted. */
  async #serve(): Promise<void> {
    const mem = this._f.mem;
    const b = this._b;
    for (let a = this.#line[0]; a !== undefined; a = this.#line[0]) {
      a.started = true;
      const n = a.n;
      try {
        await runAsync((r) => semAcquire(r.view(mem), b, n, true, true), a.signal);
        this.#line.shift();
        a.resolve();
      } catch (e) {
        this.#line.shift();
        a.reject(e);
      }
    }
    this.#drain();
  }

  #drain(): void {
    const d = this.#drained;
    this.#drained = null;
    d?.resolve();
  }

  /**
   * Takes `n` units if they are there now and no acquire of this object is waiting (it
   * would be overtaken); returns whether it took them. Never waits. Any thread.
   */
  tryAcquire(n = 1): boolean {
    checkInteger('n', n, 1, MAX_COUNT);
    return this.#line.length === 0 && semTryAcquire(this._f, this._b, n);
  }

  /**
   * Gives back `n` units (an integer in [1, 2^31 - 1]; `release(1)` is `post()`), waking
   * the waiters they may serve. Nothing checks that the caller took them (a semaphore has
   * no owner). Throws ERR_AIO_UNBALANCED, adding nothing, if the count would exceed
   * 2^31 - 1. Never blocks. Any thread.
   */
  release(n = 1): void {
    checkInteger('n', n, 1, MAX_COUNT);
    semPost(this._f, this._b, n, 'Semaphore.release()');
  }

  /**
   * Resolves once `n` units are there with no acquire of this object waiting, that is,
   * when `acquire(n)` would take them at once; takes nothing. That is an instant: by the
   * time the caller runs, another thread may have taken them. If `signal` aborts first,
   * rejects with `signal.reason`. Any thread.
   */
  async waitForUnlock(n = 1, signal?: AbortSignalLike): Promise<void> {
    checkInteger('n', n, 1, MAX_COUNT);
    checkSignal('signal', signal);
    if (signal?.aborted) throw signal.reason;
    const mem = this._f.mem;
    const b = this._b;
    for (;;) {
      if (this.#line.length === 0) {
        if (Atomics.load(mem, b + COUNT) >= n) return;
        await runAsync((r) => semAcquire(r.view(mem), b, n, false, true), signal);
      } else {
        if (this.#drained === null) {
          let resolve!: () => void;
          const promise = new Promise<void>((r) => (resolve = r));
          this.#drained = { promise, resolve };
        }
        await abortable(this.#drained.promise, signal);
      }
    }
  }

  /**
   * Runs `fn` holding `n` units: `acquire(n, signal)`, then `fn()` (sync or async), then
   * `release(n)` however `fn` ends. Resolves with `fn`'s result, rejects with what it
   * throws. If `signal` aborts before the units are taken, rejects with `signal.reason`
   * without running `fn`. Any thread.
   */
  runExclusive<T>(fn: () => T | PromiseLike<T>, n = 1, signal?: AbortSignalLike): Promise<Awaited<T>> {
    return runExclusive({ unlock: () => this.release(n) }, 'Semaphore.runExclusive()', () => this.acquire(n, signal), fn);
  }

  /**
   * Takes `n` units as `acquire(n, signal)` does and resolves with a guard for
   * `await using g = await s.acquireGuard(n)`, which gives them back when the scope ends
   * (or at `g.release()`). Any thread.
   */
  acquireGuard(n = 1, signal?: AbortSignalLike): Promise<LockGuard> {
    return guardOfAsync({ unlock: () => this.release(n) }, 'Semaphore.acquireGuard()', this.acquire(n, signal));
  }
}
