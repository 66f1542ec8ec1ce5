/**
 * Cond: QEMU's QemuCond (a condition variable used with a Mutex) in shared memory.
 *
 * Owns: the condition-variable algorithm, a futex sequence counter.
 *
 * Words (from the handle's index):
 *   0 seq  bumped by every signal/broadcast; the futex word waiters sleep on
 *
 * A waiter reads `seq` while it still holds the mutex, unlocks, and sleeps only while
 * `seq` is unchanged: a signal sent after the read (necessarily after the waiter took the
 * mutex) changes `seq`, so the sleep either does not start or is woken. Waiters are woken
 * in arrival order (Atomics.notify is FIFO). Spurious wake-ups are possible, as with
 * pthread condition variables: wait in a loop that re-checks the predicate. A timed wait
 * that times out may still consume a concurrent signal (POSIX allows the same). The
 * counter wraps after 2^32 signals; a waiter that sleeps through exactly that many would
 * miss a wake-up.
 */
import { argTypeError } from '../base/errors.js';
import { assertCanBlock } from '../base/host.js';
import { type FutexOps, runAsync, runTimed } from './futex.js';
import { type LockHandle, SharedLock, checkMs, fromHandle, lockKind } from './handle.js';
import { Mutex, mutexLock, mutexUnlock, notOwnerError } from './mutex.js';
import { threadId } from './thread-id.js';

/** Word offsets of the condition-variable layout. @internal */
const CondWord = { Seq: 0, Size: 1 } as const;

// ---------------------------------------------------------------------------------------
// Algorithm (deterministic, see futex.ts). `fc`/`c`: the cond; `fm`/`m`: the mutex.

/**
 * Waits on the cond at `c`, releasing the mutex at `m` (held by `me`) meanwhile and
 * re-taking it before returning. Returns false if a cancellable wait timed out. Throws
 * ERR_AIO_NOT_OWNER, changing nothing, if `me` does not hold the mutex. @internal
 */
export function condWait(
  fc: FutexOps,
  c: number,
  fm: FutexOps,
  m: number,
  me: number,
  async: boolean,
  cancellable: boolean,
  what: string,
): boolean {
  // Read while holding the mutex; pairs with the add in condSignal(), which the signaller
  // does after changing the predicate (normally under the same mutex).
  const seq = fc.load(c);
  mutexUnlock(fm, m, me, what);
  // Sleeps only if no signal came since the read; pairs with the notify in condSignal().
  const r = fc.wait(c, seq, cancellable);
  // Re-taking the mutex is never cancelled, as pthread_cond_timedwait re-takes it too.
  mutexLock(fm, m, me, async, false);
  return r !== 'timed-out';
}

/** Wakes `count` waiters of the cond at `c` (1: signal, Infinity: broadcast). @internal */
export function condSignal(f: FutexOps, c: number, count: number): void {
  // Pairs with the load and the wait in condWait().
  f.add(c, 1);
  f.notify(c, count);
}

// ---------------------------------------------------------------------------------------
// Class

/** The structured-cloneable form of a {@link Cond}. */
export type CondHandle = LockHandle<'aio.Cond'>;

function checkMutex(m: unknown): asserts m is Mutex {
  if (!(m instanceof Mutex)) throw argTypeError('m', 'a Mutex', m);
}

/** Before the blocking forms check whether they may block: not holding `m` is the worse error. */
function checkHolder(m: Mutex, what: string): void {
  if (!m._heldByMe()) throw notOwnerError(what);
}

const COND = lockKind('Cond', CondWord.Size);

/**
 * A condition variable in shared memory (QemuCond), used with a {@link Mutex}. Any thread.
 *
 * @example
 * ```ts
 * import { Cond, Mutex } from 'aio-node';
 *
 * declare function ready(): boolean; // state in shared memory, changed under m
 * const m = new Mutex();
 * const changed = new Cond(); // Cond.from(changed.handle) in the other threads
 * m.lock();
 * while (!ready()) changed.wait(m); // releases m while it waits
 * m.unlock();
 * // A thread that changes the state: m.lock(); ...; changed.broadcast(); m.unlock();
 * ```
 */
export class Cond extends SharedLock<'aio.Cond'> {
  /** Creates a condition variable in new shared memory. Any thread. */
  constructor() {
    super(COND);
  }

  /**
   * Rebuilds a condition variable from its handle; throws ERR_AIO_BAD_HANDLE if `handle`
   * is not a Cond handle. Any thread.
   */
  static from(handle: CondHandle): Cond {
    return fromHandle(COND, handle, () => new Cond());
  }

  /**
   * Releases `m` (which the calling thread must hold), sleeps until signalled, and takes
   * `m` again before returning (qemu_cond_wait). May wake spuriously. Throws
   * ERR_AIO_NOT_OWNER if this thread does not hold `m`, and ERR_AIO_CANNOT_BLOCK in a
   * thread that may not block; both leave `m` held and nothing changed. Any thread (the
   * holder of `m`).
   */
  wait(m: Mutex): void {
    checkMutex(m);
    checkHolder(m, 'Cond.wait()');
    assertCanBlock('Cond.wait()');
    condWait(this._f, this._b, m._f, m._b, threadId(), false, false, 'Cond.wait()');
  }

  /**
   * Like `wait(m)`, but stops waiting after `ms` milliseconds (`Infinity`: never). Returns
   * false if it timed out, true otherwise (qemu_cond_timedwait); either way `m` is held
   * again on return. Any thread (the holder of `m`).
   */
  timedWait(m: Mutex, ms: number): boolean {
    checkMutex(m);
    checkMs('ms', ms);
    checkHolder(m, 'Cond.timedWait()');
    assertCanBlock('Cond.timedWait()');
    const f = this._f;
    const b = this._b;
    const me = threadId();
    return runTimed(ms, 'Cond.timedWait()', () => condWait(f, b, m._f, m._b, me, false, true, 'Cond.timedWait()'));
  }

  /**
   * Like `wait(m)` without blocking the thread: releases `m` at once, resolves once
   * signalled and `m` is held again. Any thread (the holder of `m`).
   */
  async waitAsync(m: Mutex): Promise<void> {
    checkMutex(m);
    const cm = this._f.mem;
    const b = this._b;
    const mm = m._f.mem;
    const mb = m._b;
    const me = threadId();
    await runAsync((r) => condWait(r.view(cm), b, r.view(mm), mb, me, true, false, 'Cond.waitAsync()'), undefined);
  }

  /** Wakes one waiter, if any (qemu_cond_signal). Any thread. */
  signal(): void {
    condSignal(this._f, this._b, 1);
  }

  /** Wakes every waiter (qemu_cond_broadcast). Any thread. */
  broadcast(): void {
    condSignal(this._f, this._b, Infinity);
  }
}
