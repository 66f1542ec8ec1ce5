/**
 * What every shared-memory lock class has in common: where its words live, its
 * structured-cloneable handle and the checks of `from(handle)`, and validation of the
 * arguments the timed and async forms take.
 *
 * Owns: the handle format `{ kind, sab, index }` (a lock's words are `sab` as an
 * `Int32Array`, starting at word `index`) and the `adopting` slot through which a class's
 * `from()` hands existing memory to its constructor.
 */
import { argTypeError, badHandle, checkNumber, describeValue } from '../errors.js';
import { allocShared } from '../shared-memory.js';
import type { AbortSignalLike } from './futex.js';

/** The structured-cloneable form of a lock: its kind, its memory, and its first word. */
export interface LockHandle<K extends string = string> {
  readonly kind: K;
  readonly sab: SharedArrayBuffer;
  readonly index: number;
}

/** A lock's words: `mem[base]` .. `mem[base + size - 1]`. */
export interface LockWords {
  readonly mem: Int32Array;
  readonly base: number;
}

let adopting: LockWords | null = null;

/**
 * The words a lock constructor should use: those handed over by `from()`, or a fresh
 * zeroed block of `size` words. `fresh` tells the constructor whether to initialise them.
 */
export function takeWords(size: number): LockWords & { fresh: boolean } {
  const a = adopting;
  adopting = null;
  if (a) return { mem: a.mem, base: a.base, fresh: false };
  return { mem: new Int32Array(allocShared(size * 4)), base: 0, fresh: true };
}

/**
 * Validates `handle` as a handle of `kind` spanning `size` words, then runs `make` (which
 * calls the class constructor) with those words adopted.
 */
export function fromHandle<T>(what: string, kind: string, size: number, handle: unknown, make: () => T): T {
  if (typeof handle !== 'object' || handle === null) throw argTypeError('handle', `an ${kind} handle object`, handle);
  const h = handle as Partial<LockHandle>;
  let problem: string | undefined;
  if (h.kind !== kind) problem = `its kind is ${describeValue(h.kind)}, not '${kind}'`;
  else if (!(h.sab instanceof SharedArrayBuffer)) problem = `its "sab" is ${describeValue(h.sab)}, not a SharedArrayBuffer`;
  else if (typeof h.index !== 'number' || !Number.isInteger(h.index) || h.index < 0 || (h.index + size) * 4 > h.sab.byteLength) {
    problem = `its "index" (${describeValue(h.index)}) does not leave ${size} words inside "sab" (${h.sab.byteLength} bytes)`;
  }
  if (problem) throw badHandle(what, kind, problem);
  adopting = { mem: new Int32Array(h.sab as SharedArrayBuffer), base: h.index as number };
  try {
    return make();
  } finally {
    adopting = null;
  }
}

/** Builds the frozen handle of a lock. */
export function makeHandle<K extends string>(kind: K, words: LockWords): LockHandle<K> {
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
