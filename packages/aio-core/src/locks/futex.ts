/**
 * The futex layer under every shared-memory lock: the `FutexOps` interface the lock
 * algorithms are written against, and the three ways to run an algorithm.
 *
 * Owns: `FutexOps`, the blocking deadline of the operation running in this thread, the
 * replay machinery (`Replay`) and the asynchronous driver (`runAsync`) built on it. Its
 * implementations over real memory are in atomics-ops.ts.
 *
 * ## One copy of each algorithm
 *
 * Each lock algorithm (mutex.ts, lockcnt.ts, ...) is written once, as a plain synchronous
 * function taking a `FutexOps` and word indexes. It must be deterministic: its control
 * flow may depend only on its arguments and on the values its `FutexOps` calls return,
 * and it must have no other side effect than those calls (throwing is fine).
 *
 *  - Blocking path: the function runs with an `AtomicsOps`, whose methods are one
 *    `Atomics` call each and inline completely. Nothing is allocated: the uncontended
 *    `Mutex.lock()` is one `compareExchange` and one plain store, and `unlock()` one plain
 *    read, one plain store and one `exchange`, close to a hand-inlined CAS lock.
 *  - Asynchronous path and the model checker: the function runs with a `Replay` view. A
 *    `Replay` logs the result of every operation; when the function reaches an operation
 *    that cannot complete now (a futex wait for `runAsync`, any operation for the model
 *    checker), the view throws `SUSPEND` and unwinds. To resume, the caller appends the
 *    operation's result to the log and runs the function again from the start; the view
 *    answers the logged operations from the log, without touching memory, until it gets
 *    past the end of the log. This turns a plain function into a resumable thread with
 *    every shared-memory operation as a possible suspension point, without generators on
 *    the fast path and without a second copy of the algorithm.
 *
 * Generators were the alternative: they would have needed a hand-written copy of every
 * fast path (a generator call allocates), so the checked code and the fast code would
 * have been two copies. Replay costs time quadratic in the number of operations of one
 * call, which only matters on contended asynchronous waits, where it is small next to the
 * wake-up latency.
 *
 * ## Waits
 *
 * `wait(index, expected, cancellable)` is `Atomics.wait`. A cancellable wait may return
 * 'timed-out' for three reasons: the caller's deadline passed, the caller's AbortSignal
 * fired, or the thread may not block (a browser main thread). Algorithms treat all three
 * alike: they leave the lock state consistent and, if the wait may have consumed a
 * wake-up meant for someone, pass it on. The memory model is JavaScript's: every Atomics
 * operation is sequentially consistent; `read`/`write` are plain (unordered) accesses,
 * used only for words that the lock itself protects (owner, recursion depth).
 */
import { AioError } from '../base/errors.js';
import { assertCanBlock, getHost } from '../base/host.js';

/** What a futex wait reports, as `Atomics.wait` does. */
export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

/**
 * The shared-memory operations a lock algorithm may use, on one `Int32Array` (indexes are
 * word indexes into it). All but `read`/`write` are sequentially consistent atomics.
 * Implementations: `AtomicsOps` and `LoopAtomicsOps` (real memory, atomics-ops.ts), `Replay`
 * views (async driver, model checker).
 * Any thread may use an implementation over memory it shares.
 */
export interface FutexOps {
  /** `Atomics.load`. */
  load(index: number): number;
  /** `Atomics.store`; returns `value`. */
  store(index: number, value: number): number;
  /** `Atomics.compareExchange`; returns the value seen. */
  compareExchange(index: number, expected: number, replacement: number): number;
  /** `Atomics.exchange`; returns the old value. */
  exchange(index: number, value: number): number;
  /** `Atomics.add`; returns the old value. */
  add(index: number, value: number): number;
  /** `Atomics.sub`; returns the old value. */
  sub(index: number, value: number): number;
  /** `Atomics.or`; returns the old value. */
  or(index: number, value: number): number;
  /** `Atomics.and`; returns the old value. */
  and(index: number, value: number): number;
  /** Plain read, for words the lock protects (no ordering of its own). */
  read(index: number): number;
  /** Plain write, for words the lock protects (no ordering of its own). */
  write(index: number, value: number): void;
  /**
   * `Atomics.wait(mem, index, expected)`. With `cancellable`, may return 'timed-out'
   * (deadline, abort, or a thread that may not block); otherwise never does.
   */
  wait(index: number, expected: number, cancellable: boolean): WaitResult;
  /** `Atomics.notify`; `count` may be `Infinity`. Returns how many waiters it woke. */
  notify(index: number, count: number): number;
}

// ---------------------------------------------------------------------------------------
// Blocking path

/** Deadline, in `performance.now()` ms, of the blocking operation this thread is running. */
let deadline = Infinity;
/** Set when a cancellable wait gave up because this thread may not block. */
let refused = false;

/**
 * How long a cancellable futex wait of this thread may block now, in ms: what is left of
 * the deadline of the blocking operation running (`Infinity`: none), or -1 when it may not
 * wait at all: that deadline passed, or this thread may not block (noted, so `runTimed`
 * reports ERR_AIO_CANNOT_BLOCK). This thread only.
 */
export function waitBudgetMs(): number {
  let ms = Infinity;
  if (deadline !== Infinity) {
    ms = deadline - performance.now();
    if (ms <= 0) return -1;
  }
  if (!getHost().canBlock()) {
    refused = true;
    return -1;
  }
  return ms;
}

/**
 * Runs a blocking operation with a deadline `ms` from now (`Infinity`: none). Returns
 * what `op` returns; when `op` gave up because the thread may not block, throws
 * ERR_AIO_CANNOT_BLOCK naming `what` instead. This thread only.
 */
export function runTimed(ms: number, what: string, op: () => boolean): boolean {
  const saved = deadline;
  refused = false;
  deadline = ms === Infinity ? Infinity : performance.now() + ms;
  let ok: boolean;
  try {
    ok = op();
  } finally {
    deadline = saved;
  }
  if (!ok && refused) cannotBlock(what);
  return ok;
}

/**
 * Runs `op` with this thread's deadline `ms` from now, for an algorithm that handles a
 * cancellable wait's 'timed-out' itself and waits only where the thread may block (no
 * ERR_AIO_CANNOT_BLOCK here). Returns what `op` returns. This thread only.
 */
export function withDeadline<T>(ms: number, op: () => T): T {
  const saved = deadline;
  deadline = performance.now() + ms;
  try {
    return op();
  } finally {
    deadline = saved;
  }
}

/**
 * Called when an untimed blocking operation gave up: the only reason is a thread that may
 * not block, so this throws ERR_AIO_CANNOT_BLOCK naming `what`. This thread only.
 */
export function cannotBlock(what: string): never {
  refused = false;
  assertCanBlock(what);
  // canBlock() changed its answer between the wait and here: report it the same way.
  throw new AioError('ERR_AIO_CANNOT_BLOCK', `${what} would block, and this thread may not block: use the async form`);
}

// ---------------------------------------------------------------------------------------
// Replay

/** Names of the `FutexOps` methods, as recorded in a `Replay` log. */
export type FutexOpKind =
  | 'load'
  | 'store'
  | 'compareExchange'
  | 'exchange'
  | 'add'
  | 'sub'
  | 'or'
  | 'and'
  | 'read'
  | 'write'
  | 'wait'
  | 'notify';

/**
 * One operation reached past the end of a `Replay` log. `a`/`b` are the operation's
 * arguments after the index (value; expected and replacement; expected for wait; count
 * for notify); `space` is the memory the view was made for.
 */
export interface FutexOp<S = unknown> {
  readonly kind: FutexOpKind;
  readonly space: S;
  readonly index: number;
  readonly a: number;
  readonly b: number;
  readonly cancellable: boolean;
}

/** Thrown by a `Replay` view to unwind a run at an operation that cannot complete yet. */
export const SUSPEND: { readonly suspended: true } = Object.freeze({ suspended: true as const });

/**
 * Turns a deterministic algorithm into a resumable computation (see the file comment).
 * `perform(op)` is called for each operation past the end of the log: it returns the
 * operation's result (the op is then logged) or throws `SUSPEND` to stop the run; the
 * caller later appends the result with `resume()` and runs the algorithm again after
 * `rewind()`. Whoever owns the `Replay` (one async call, one simulated thread).
 */
export class Replay<S = unknown> {
  /** Results of the operations done so far, in order. */
  readonly results: (number | WaitResult)[] = [];
  /** Kind and index of each logged operation, to detect an algorithm that diverges. */
  readonly #kinds: FutexOpKind[] = [];
  readonly #indexes: number[] = [];
  #pos = 0;
  readonly #perform: (op: FutexOp<S>) => number | WaitResult;

  constructor(perform: (op: FutexOp<S>) => number | WaitResult) {
    this.#perform = perform;
  }

  /** A `FutexOps` over `space` that logs into this replay. */
  view(space: S): FutexOps {
    return new ReplayView(this, space);
  }

  /** Starts a new run from the beginning of the log. */
  rewind(): void {
    this.#pos = 0;
  }

  /** Appends the result of the operation that suspended the last run. */
  resume(op: FutexOp<S>, result: number | WaitResult): void {
    this.results.push(result);
    this.#kinds.push(op.kind);
    this.#indexes.push(op.index);
  }

  /** @internal */
  _step(kind: FutexOpKind, space: S, index: number, a: number, b: number, cancellable: boolean): number | WaitResult {
    const pos = this.#pos;
    if (pos < this.results.length) {
      if (this.#kinds[pos] !== kind || this.#indexes[pos] !== index) {
        throw new Error(
          `futex replay diverged at operation ${pos}: logged ${this.#kinds[pos]}@${this.#indexes[pos]}, now ${kind}@${index} (the algorithm is not deterministic)`,
        );
      }
      this.#pos = pos + 1;
      return this.results[pos]!;
    }
    const op: FutexOp<S> = { kind, space, index, a, b, cancellable };
    const result = this.#perform(op); // may throw SUSPEND
    this.resume(op, result);
    this.#pos = pos + 1;
    return result;
  }
}

class ReplayView<S> implements FutexOps {
  readonly #r: Replay<S>;
  readonly #s: S;
  constructor(r: Replay<S>, space: S) {
    this.#r = r;
    this.#s = space;
  }
  #n(kind: FutexOpKind, index: number, a = 0, b = 0): number {
    return this.#r._step(kind, this.#s, index, a, b, false) as number;
  }
  load(index: number): number {
    return this.#n('load', index);
  }
  store(index: number, value: number): number {
    return this.#n('store', index, value);
  }
  compareExchange(index: number, expected: number, replacement: number): number {
    return this.#n('compareExchange', index, expected, replacement);
  }
  exchange(index: number, value: number): number {
    return this.#n('exchange', index, value);
  }
  add(index: number, value: number): number {
    return this.#n('add', index, value);
  }
  sub(index: number, value: number): number {
    return this.#n('sub', index, value);
  }
  or(index: number, value: number): number {
    return this.#n('or', index, value);
  }
  and(index: number, value: number): number {
    return this.#n('and', index, value);
  }
  read(index: number): number {
    return this.#n('read', index);
  }
  write(index: number, value: number): void {
    this.#n('write', index, value);
  }
  wait(index: number, expected: number, cancellable: boolean): WaitResult {
    return this.#r._step('wait', this.#s, index, expected, 0, cancellable) as WaitResult;
  }
  notify(index: number, count: number): number {
    return this.#n('notify', index, count);
  }
}

/** Performs one operation on real memory. Any thread. */
function performAtomics(mem: Int32Array, op: FutexOp): number {
  const i = op.index;
  switch (op.kind) {
    case 'load':
      return Atomics.load(mem, i);
    case 'store':
      return Atomics.store(mem, i, op.a);
    case 'compareExchange':
      return Atomics.compareExchange(mem, i, op.a, op.b);
    case 'exchange':
      return Atomics.exchange(mem, i, op.a);
    case 'add':
      return Atomics.add(mem, i, op.a);
    case 'sub':
      return Atomics.sub(mem, i, op.a);
    case 'or':
      return Atomics.or(mem, i, op.a);
    case 'and':
      return Atomics.and(mem, i, op.a);
    case 'read':
      return mem[i]!;
    case 'write':
      mem[i] = op.a;
      return 0;
    case 'notify':
      return Atomics.notify(mem, i, op.a);
    case 'wait':
      throw new Error('performAtomics: a wait is not performed synchronously');
  }
}

// ---------------------------------------------------------------------------------------
// Asynchronous path

/** The part of an `AbortSignal` the async forms use (aio-core has no DOM types). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * Runs `algorithm` (which returns false when it gave up at a cancellable wait) without
 * ever blocking the thread: futex waits become `Atomics.waitAsync` (holding a host ref
 * meanwhile) and the algorithm is resumed by replay. When `signal` fires during a
 * cancellable wait, the wait reports 'timed-out', the algorithm cleans up, and the
 * promise rejects with `signal.reason`. The caller checks `signal.aborted` before
 * calling. The thread that calls it.
 */
export async function runAsync(
  algorithm: (replay: Replay<Int32Array>) => boolean,
  signal: AbortSignalLike | undefined,
): Promise<boolean> {
  let suspendedAt: FutexOp<Int32Array> | null = null;
  const replay = new Replay<Int32Array>((op) => {
    if (op.kind !== 'wait') return performAtomics(op.space, op);
    suspendedAt = op;
    throw SUSPEND;
  });
  let aborted = false;
  for (;;) {
    replay.rewind();
    let done: boolean;
    try {
      done = algorithm(replay);
    } catch (e) {
      if (e !== SUSPEND) throw e;
      const op = suspendedAt!;
      suspendedAt = null;
      let result: WaitResult | 'aborted';
      if (aborted && op.cancellable) result = 'timed-out';
      else result = await waitAsync(op.space, op.index, op.a, op.cancellable ? signal : undefined);
      if (result === 'aborted') {
        aborted = true;
        result = 'timed-out';
      }
      replay.resume(op, result);
      continue;
    }
    if (!done && aborted) throw signal!.reason;
    return done;
  }
}

/**
 * One asynchronous futex wait. `Atomics.waitAsync` cannot be withdrawn: when `signal`
 * fires first, the abandoned waiter stays queued on the word and could swallow a later
 * `notify(…, 1)` meant for a live waiter. So on abort this wakes every waiter of the word
 * once, which removes ours; the others treat it as a spurious wake-up (every algorithm
 * here re-checks its word after waking).
 */
async function waitAsync(mem: Int32Array, index: number, expected: number, signal: AbortSignalLike | undefined): Promise<WaitResult | 'aborted'> {
  if (signal?.aborted) return 'aborted';
  if (typeof Atomics.waitAsync !== 'function') return pollWord(mem, index, expected, signal);
  const r = Atomics.waitAsync(mem, index, expected);
  if (!r.async) return r.value;
  const host = getHost();
  host.ref();
  try {
    if (!signal) return await r.value;
    let onAbort!: () => void;
    const abort = new Promise<'aborted'>((resolve) => (onAbort = () => resolve('aborted')));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await Promise.race([r.value, abort]);
      // Wakes our own abandoned waiter (and, spuriously, the others); see above.
      if (result === 'aborted') Atomics.notify(mem, index, Infinity);
      return result;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  } finally {
    host.unref();
  }
}

/**
 * Fallback for runtimes without `Atomics.waitAsync` (Firefox before 145): looks at the
 * word every millisecond and reports 'ok' once it changed. It cannot see a change that
 * is undone between two looks, so it may wait for a later one (slower, never wrong).
 */
async function pollWord(mem: Int32Array, index: number, expected: number, signal: AbortSignalLike | undefined): Promise<WaitResult | 'aborted'> {
  if (Atomics.load(mem, index) !== expected) return 'not-equal';
  const host = getHost();
  host.ref();
  try {
    for (;;) {
      await new Promise<void>((resolve) => setTimeout(resolve, 1));
      if (signal?.aborted) return 'aborted';
      if (Atomics.load(mem, index) !== expected) return 'ok';
    }
  } finally {
    host.unref();
  }
}
