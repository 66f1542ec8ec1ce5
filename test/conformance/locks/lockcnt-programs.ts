/**
 * Simulated-thread programs for model checking LockCnt (lockcnt.ts), shared by the
 * model-lockcnt*.test.ts files: visits (inc/dec), the free-on-last-visit pattern
 * (decAndLock/decIfLock), lockers (lock/unlock, incAndUnlock), and the checks of QEMU's
 * contract: no visit starts while the counter is 0 and the lock is held (so a holder that
 * sees counter 0 may free the data), mutual exclusion, no lost wake-up, the final word.
 */
import type { FutexOps } from '../../../packages/aio-core/src/locks/futex.js';
import {
  LockCntResult,
  lockCntDec,
  lockCntDecAndLock,
  lockCntInc,
  lockCntLock,
  lockCntUnlock,
} from '../../../packages/aio-core/src/locks/lockcnt.js';
import { type GiveUp, type Model, type SimThread, checkpoint } from './model-checker.js';

/** Words: 0 count, 1 owner (the LockCnt), 2 data (1 alive, 0 freed), 3 lock holders inside. */
export const C = 0;
const DATA = 2;
const INSIDE = 3;

export type Body = SimThread['run'];

// Markers use plain accesses, which run within the step before them (model-checker.ts):
// a window opens inside the step that took the lock or started the visit, and closes at
// a separate atomic step, so other threads can run while it is open.

/** Checks, right where a visit starts, that the data is not freed. */
function visitData(f: FutexOps): void {
  if (f.read(DATA) === 0) throw new Error('a visit started while the data was freed');
}

/** Frees the data (within the step that took the lock) and re-creates it one step later. */
function freeData(f: FutexOps): void {
  f.write(DATA, 0);
  f.store(DATA, 1);
}

/** inc; visit; dec. */
export const visitor: Body = (f, me) => {
  if (!lockCntInc(f, C, me)) return 'gave up';
  checkpoint(f, 'visiting');
  visitData(f);
  checkpoint(f, 'visited');
  lockCntDec(f, C);
  return 'visited';
};

/** inc; visit; decAndLock (or decIfLock), and if it was the last visit, free the data under the lock. */
export const lastFrees =
  (onlyIfLast: boolean): Body =>
  (f, me) => {
    if (!lockCntInc(f, C, me)) return 'gave up';
    checkpoint(f, 'visiting');
    visitData(f);
    checkpoint(f, 'visited');
    const r = lockCntDecAndLock(f, C, me, onlyIfLast);
    checkpoint(f, `dec ${r}`);
    if (r === LockCntResult.GaveUp) {
      lockCntDec(f, C);
      return 'gave up';
    }
    if (r === LockCntResult.NotLocked) {
      if (onlyIfLast) lockCntDec(f, C);
      return 'left';
    }
    freeData(f);
    checkpoint(f, 'freed');
    lockCntUnlock(f, C, me, false);
    return 'freed';
  };

/** lock; free the data if no visit is going on; unlock. */
export const freer: Body = (f, me) => {
  if (!lockCntLock(f, C, me)) return 'gave up';
  checkpoint(f, 'locked');
  if (f.read(C) >>> 2 === 0) freeData(f);
  checkpoint(f, 'unlocking');
  lockCntUnlock(f, C, me, false);
  return 'locked';
};

/**
 * lock; stay inside one step (checked for mutual exclusion) unless `bare`; unlock, or
 * incAndUnlock then a visit.
 */
export const locker =
  (then: 'unlock' | 'incAndUnlock', bare = false): Body =>
  (f, me) => {
    if (!lockCntLock(f, C, me)) return 'gave up';
    checkpoint(f, 'locked');
    if (!bare) {
      f.write(INSIDE, f.read(INSIDE) + 1);
      f.sub(INSIDE, 1);
      checkpoint(f, 'unlocking');
    }
    lockCntUnlock(f, C, me, then === 'incAndUnlock');
    if (then === 'unlock') return 'locked';
    checkpoint(f, 'visiting');
    visitData(f);
    checkpoint(f, 'visited');
    lockCntDec(f, C);
    return 'locked, visited';
  };

export function lockCntModel(bodies: Record<string, Body>, giveUp: GiveUp[] = []): Model {
  return {
    words: 4,
    init: [0, 0, 1],
    threads: Object.entries(bodies).map(([name, run], t) => ({ name, run, giveUp: giveUp[t] ?? 'never' })),
    invariant: (m) => (m[INSIDE]! > 1 ? 'two lock holders' : undefined),
    // Asleep while the lock is free can only be a lost wake-up (waits here are for the lock).
    canProceed: (m) => (m[C]! & 3) === 0,
    final: (m) => (m[C] !== 0 || m[1] !== 0 ? `final word ${m[C]}, owner ${m[1]}` : undefined),
  };
}

