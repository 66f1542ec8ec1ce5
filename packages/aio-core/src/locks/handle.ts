/**
 * What every shared-memory lock class has in common: where its words live, its
 * structured-cloneable handle and the checks of `from(handle)`, validation of the
 * arguments the timed and async forms take, and the drivers those forms share.
 *
 * Owns: the handle format `{ kind, sab, index }` (a lock's words are `sab` as an
 * `Int32Array`, starting at word `index`), the `adopting` slot through which a class's
 * `from()` hands existing memory to its constructor, and `SharedLock`, the base class
 * that holds the words and handle (each class keeps its algorithm and its public docs).
 */
import { argTypeError, badHandle, checkNumber, describeValue } from '../base/errors.js';
import { allocShared } from '../base/shared-memory.js';
import { AtomicsOps } from './atomics-ops.js';
import { type AbortSignalLike, type FutexOps, runAsync, runTimed } from './futex.js';

/** The structured-cloneable form of a lock: its kind, its memory, and its first word. */
export interface LockHandle<K extends string = string> {
  readonly kind: K;
  readonly sab: SharedArrayBuffer;
  readonly index: number;
}

/** A lock's words: `mem[base]` .. `mem[base + size - 1]`. */
interface LockWords {
  readonly mem: Int32Array;
  readonly base: number;
}

/** What the shared code knows of a lock class: its name (in messages), handle kind and size in words. */
export interface LockKind<K extends string = string> {
  readonly name: string;
  readonly kind: K;
  readonly size: number;
}

/** The kind of lock class `name`: handles of kind `aio.<name>`, `size` words. */
export function lockKind<N extends string>(name: N, size: number): LockKind<`aio.${N}`> {
  return { name, kind: `aio.${name}`, size };
}

let adopting: LockWords | null = null;

/**
 * The words a lock constructor should use: those handed over by `from()`, or a fresh
 * zeroed block of `size` words. `fresh` tells the constructor whether to initialise them.
 */
function takeWords(size: number): LockWords & { fresh: boolean } {
  const a = adopting;
  adopting = null;
  if (a) return { mem: a.mem, base: a.base, fresh: false };
  return { mem: new Int32Array(allocShared(size * 4)), base: 0, fresh: true };
}

/**
 * The body of a class's `from(handle)`: validates `handle` as a handle of `lock`, then
 * runs `make` (which calls the class constructor) with its words adopted. Any thread.
 */
export function fromHandle<T>(lock: LockKind, handle: unknown, make: () => T): T {
  const { kind, size } = lock;
  if (typeof handle !== 'object' || handle === null) throw argTypeError('handle', `an ${kind} handle object`, handle);
  const h = handle as Partial<LockHandle>;
  let problem: string | undefined;
  if (h.kind !== kind) problem = `its kind is ${describeValue(h.kind)}, not '${kind}'`;
  else if (!(h.sab instanceof SharedArrayBuffer)) problem = `its "sab" is ${describeValue(h.sab)}, not a SharedArrayBuffer`;
  else if (typeof h.index !== 'number' || !Number.isInteger(h.index) || h.index < 0 || (h.index + size) * 4 > h.sab.byteLength) {
    problem = `its "index" (${describeValue(h.index)}) does not leave ${size} words inside "sab" (${h.sab.byteLength} bytes)`;
  }
  if (problem) throw badHandle(`${lock.name}.from()`, kind, problem);
  adopting = { mem: new Int32Array(h.sab as SharedArrayBuffer), base: h.index as number };
  try {
    return make();
  } finally {
    adopting = null;
  }
}

/** Builds the frozen handle of a lock. */
function makeHandle<K extends string>(kind: K, words: LockWords): LockHandle<K> {
  return Object.freeze({ kind, sab: words.mem.buffer as SharedArrayBuffer, index: words.base });
}

/** Checks a timeout in milliseconds: a number >= 0, `Infinity` allowed. */
export function checkMs(name: string, ms: unknown): asserts ms is number {
  if (ms !== Infinity) checkNumber(name, ms, 0);
}

/** Checks an optional AbortSignal argument. */
export function checkSignal(name: string, signal: unknown): asserts signal is AbortSignalLike | undefined {
  if (signal === undefined) return;
  const s = signal as Partial<AbortSignalLike> | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.aborted !== 'boolean' ||
    typeof s.addEventListener !== 'function' ||
    typeof s.removeEventListener !== 'function'
  ) {
    throw argTypeError(name, 'an AbortSignal or undefined', signal);
  }
}

/**
 * The base of every lock class: its words (`_f` over its memory, from word `_b`) and their
 * handle, and the bodies of the `timedWait`/`waitAsync` forms of a class whose waiting is
 * one cancellable algorithm. @internal
 */
export abstract class SharedLock<K extends string> {
  /** Structured-cloneable handle; pass it to another thread and call the same class's `from()` there. Any thread. */
  readonly handle: LockHandle<K>;
  /** @internal */
  readonly _f: AtomicsOps;
  /** @internal */
  readonly _b: number;
  readonly #name: string;

  /**
   * Takes the words `from()` is handing over, else new zeroed ones, which `init` (if
   * given) sets up; adopted words are left as they are. Any thread. @internal
   */
  protected constructor(lock: LockKind<K>, init?: (mem: Int32Array, base: number) => void) {
    const w = takeWords(lock.size);
    this._f = new AtomicsOps(w.mem);
    this._b = w.base;
    this.handle = makeHandle(lock.kind, w);
    this.#name = lock.name;
    if (w.fresh) init?.(w.mem, w.base);
  }

  /**
   * The body of `timedWait(ms)`: checks `ms`, then runs `wait` (which returns false when
   * its cancellable wait gave up) for at most `ms` milliseconds. The calling thread.
   * @internal
   */
  protected _timedWait(ms: number, wait: (f: FutexOps, b: number) => boolean): boolean {
    checkMs('ms', ms);
    const f = this._f;
    const b = this._b;
    return runTimed(ms, `${this.#name}.timedWait()`, () => wait(f, b));
  }

  /**
   * The body of `waitAsync(signal)`: checks `signal`, then runs `wait` without blocking
   * the thread; rejects with `signal.reason` if it aborts first. The calling thread.
   * @internal
   */
  protected async _waitAsync(signal: AbortSignalLike | undefined, wait: (f: FutexOps, b: number) => boolean): Promise<void> {
    checkSignal('signal', signal);
    if (signal?.aborted) throw signal.reason;
    const mem = this._f.mem;
    const b = this._b;
    await runAsync((r) => wait(r.view(mem), b), signal);
  }
}
