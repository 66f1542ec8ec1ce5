/**
 * `FutexOps` over real shared memory: each method is the `Atomics` call (or plain access)
 * of the same name, so that an algorithm written against `FutexOps` (futex.ts) runs on the
 * blocking path at the cost of the inline `Atomics` calls.
 *
 * Owns: `AtomicsOps` (the locks' words) and `LoopAtomicsOps` (the words of the event loop
 * and the layers above it), two classes with the same methods on purpose (see
 * `LoopAtomicsOps`).
 */
import { type FutexOps, type WaitResult, waitBudgetMs } from './futex.js';

/**
 * `FutexOps` over real shared memory, for the blocking path: each method is the `Atomics`
 * call (or plain access) of the same name. Waits honour this thread's deadline (see
 * `runTimed`) and give up instead of blocking where the thread may not block. Any thread.
 */
export class AtomicsOps implements FutexOps {
  /** The lock's words. */
  readonly mem: Int32Array;

  /** Wraps `mem` (an `Int32Array` over a `SharedArrayBuffer`). Any thread. */
  constructor(mem: Int32Array) {
    this.mem = mem;
  }

  load(index: number): number {
    return Atomics.load(this.mem, index);
  }
  store(index: number, value: number): number {
    return Atomics.store(this.mem, index, value);
  }
  compareExchange(index: number, expected: number, replacement: number): number {
    return Atomics.compareExchange(this.mem, index, expected, replacement);
  }
  exchange(index: number, value: number): number {
    return Atomics.exchange(this.mem, index, value);
  }
  add(index: number, value: number): number {
    return Atomics.add(this.mem, index, value);
  }
  sub(index: number, value: number): number {
    return Atomics.sub(this.mem, index, value);
  }
  or(index: number, value: number): number {
    return Atomics.or(this.mem, index, value);
  }
  and(index: number, value: number): number {
    return Atomics.and(this.mem, index, value);
  }
  read(index: number): number {
    return this.mem[index]!;
  }
  write(index: number, value: number): void {
    this.mem[index] = value;
  }
  wait(index: number, expected: number, cancellable: boolean): WaitResult {
    return atomicsWait(this.mem, index, expected, cancellable);
  }
  notify(index: number, count: number): number {
    return Atomics.notify(this.mem, index, count);
  }
}

/**
 * The same operations as `AtomicsOps`, in a class of its own for the words of the event
 * loop and the layers above it (the wake table, shared BH blocks, the shared CoMutex
 * ring), so that the locks' `AtomicsOps` methods are not also called from the loop. JSC
 * keeps one profile per function for all its callers: with the loop's calls added, Bun
 * compiled the lock classes' inlined `AtomicsOps` calls slower (issue 13: Event
 * set + reset 1.36x, LockCnt inc + dec 1.27x after the roundtrip, throughput, BH, timer
 * and mutex bench groups; equal with this class). Any thread.
 */
export class LoopAtomicsOps implements FutexOps {
  /** The words. */
  readonly mem: Int32Array;

  /** Wraps `mem` (an `Int32Array` over a `SharedArrayBuffer`). Any thread. */
  constructor(mem: Int32Array) {
    this.mem = mem;
  }

  load(index: number): number {
    return Atomics.load(this.mem, index);
  }
  store(index: number, value: number): number {
    return Atomics.store(this.mem, index, value);
  }
  compareExchange(index: number, expected: number, replacement: number): number {
    return Atomics.compareExchange(this.mem, index, expected, replacement);
  }
  exchange(index: number, value: number): number {
    return Atomics.exchange(this.mem, index, value);
  }
  add(index: number, value: number): number {
    return Atomics.add(this.mem, index, value);
  }
  sub(index: number, value: number): number {
    return Atomics.sub(this.mem, index, value);
  }
  or(index: number, value: number): number {
    return Atomics.or(this.mem, index, value);
  }
  and(index: number, value: number): number {
    return Atomics.and(this.mem, index, value);
  }
  read(index: number): number {
    return this.mem[index]!;
  }
  write(index: number, value: number): void {
    this.mem[index] = value;
  }
  wait(index: number, expected: number, cancellable: boolean): WaitResult {
    return atomicsWait(this.mem, index, expected, cancellable);
  }
  notify(index: number, count: number): number {
    return Atomics.notify(this.mem, index, count);
  }
}

/** `FutexOps.wait` on real memory, honouring this thread's deadline (see futex.ts `runTimed`). */
function atomicsWait(mem: Int32Array, index: number, expected: number, cancellable: boolean): WaitResult {
  if (!cancellable) return Atomics.wait(mem, index, expected);
  const ms = waitBudgetMs();
  return ms < 0 ? 'timed-out' : Atomics.wait(mem, index, expected, ms);
}
