/**
 * Model checking of the Cond algorithm (cond.ts, a futex sequence counter) together with
 * the Mutex it releases and re-takes: every interleaving of 2-3 simulated threads, checking
 * that no waiter sleeps through the signal meant for it, plus broken variants the checker
 * must catch.
 */
import { describe, expect, it } from 'vitest';
import { condSignal, condWait } from '../../../packages/aio-core/src/locks/cond.js';
import type { FutexOps } from '../../../packages/aio-core/src/locks/futex.js';
import { mutexLock, mutexUnlock } from '../../../packages/aio-core/src/locks/mutex.js';
import { type GiveUp, type Model, check, checkpoint, summary } from './model-checker.js';
import { expectClean } from './model-expect.js';

/** Words: 0-1 the mutex, 2 the cond's sequence, 3 the predicate (a flag or a token count). */
const M = 0;
const SEQ = 2;
const PRED = 3;

type Wait = (f: FutexOps, me: number) => boolean;

const wait: Wait = (f, me) => condWait(f, SEQ, f, M, me, false, false, 'Cond.wait()');
const timedWait: Wait = (f, me) => condWait(f, SEQ, f, M, me, false, true, 'Cond.timedWait()');
const waitAsync: Wait = (f, me) => condWait(f, SEQ, f, M, me, true, false, 'Cond.waitAsync()');

/**
 * lock; while the predicate is 0: wait; then consume it (a token) or just see it (a flag);
 * unlock. With a timed wait, gives up on the first timeout. The predicate is read and
 * written under the mutex, with plain accesses.
 */
const waiter =
  (w: Wait, consume: boolean) =>
  (f: FutexOps, me: number): boolean => {
    mutexLock(f, M, me, false, false);
    let ok = true;
    for (;;) {
      checkpoint(f, 'check');
      if (f.read(PRED) > 0) break;
      if (!w(f, me)) {
        ok = false;
        break;
      }
    }
    checkpoint(f, `done ${ok}`);
    if (ok && consume) f.write(PRED, f.read(PRED) - 1);
    mutexUnlock(f, M, me, 'Mutex.unlock()');
    return ok;
  };

/** lock; raise the predicate; signal (1) or broadcast (Infinity), inside or after the critical section. */
const signaller =
  (count: number, where: 'inside' | 'after') =>
  (f: FutexOps, me: number): void => {
    mutexLock(f, M, me, false, false);
    f.write(PRED, f.read(PRED) + 1);
    if (where === 'inside') condSignal(f, SEQ, count);
    checkpoint(f, 'unlock');
    mutexUnlock(f, M, me, 'Mutex.unlock()');
    if (where === 'after') condSignal(f, SEQ, count);
  };

function condModel(threads: [string, (f: FutexOps, me: number) => unknown, GiveUp?][]): Model {
  return {
    words: 4,
    threads: threads.map(([name, run, giveUp]) => ({ name, run, giveUp: giveUp ?? 'never' })),
    // Everyone asleep while the predicate holds or the mutex is free is a lost wake-up.
    canProceed: (m) => m[PRED]! > 0 || m[M] === 0,
    final: (m) => (m[M] !== 0 || m[1] !== 0 ? `mutex left in state ${m[M]}, owner ${m[1]}` : undefined),
  };
}


describe('/locking/model/cond', () => {
  it('one waiter, a signal inside or after the critical section', () => {
    expectClean('cond wait / signal inside', condModel([['W', waiter(wait, false)], ['S', signaller(1, 'inside')]]));
    expectClean('cond wait / signal after', condModel([['W', waiter(wait, false)], ['S', signaller(1, 'after')]]));
    expectClean('cond waitAsync / signal after', condModel([['W', waiter(waitAsync, false)], ['S', signaller(1, 'after')]]));
  });

  it('two waiters, a broadcast', () => {
    expectClean(
      'cond wait x2 / broadcast',
      condModel([
        ['W1', waiter(wait, false)],
        ['W2', waiter(wait, false)],
        ['S', signaller(Infinity, 'after')],
      ]),
    );
  });

  it('two consumers, a producer adding two tokens with one signal each', () => {
    const producer = (f: FutexOps, me: number): void => {
      mutexLock(f, M, me, false, false);
      f.write(PRED, f.read(PRED) + 2);
      condSignal(f, SEQ, 1);
      checkpoint(f, 'signalled once');
      condSignal(f, SEQ, 1);
      checkpoint(f, 'signalled twice');
      mutexUnlock(f, M, me, 'Mutex.unlock()');
    };
    expectClean(
      'cond consumer x2 / producer',
      condModel([
        ['C1', waiter(wait, true)],
        ['C2', waiter(wait, true)],
        ['P', producer],
      ]),
    );
  });

  it('a timed waiter that may time out', () => {
    expectClean('cond timedWait / signal', condModel([['T', waiter(timedWait, false), 'timeout'], ['S', signaller(1, 'inside')]]));
  });

  it('catches a waiter that reads the sequence after releasing the mutex', () => {
    const brokenWait: Wait = (f, me) => {
      mutexUnlock(f, M, me, 'unlock');
      const seq = f.load(SEQ); // too late: a signal may already have come and gone
      f.wait(SEQ, seq, false);
      mutexLock(f, M, me, false, false);
      return true;
    };
    const r = check(condModel([['W', waiter(brokenWait, false)], ['S', signaller(1, 'inside')]]));
    console.log(summary('broken cond: late read', r));
    expect(r.violation?.kind).toBe('lost-wakeup');
  });

  it('catches a signal that notifies without bumping the sequence', () => {
    const brokenSignaller = (f: FutexOps, me: number): void => {
      mutexLock(f, M, me, false, false);
      f.write(PRED, 1);
      f.notify(SEQ, 1); // a waiter between its load and its wait does not see this
      mutexUnlock(f, M, me, 'unlock');
    };
    const r = check(condModel([['W', waiter(wait, false)], ['S', brokenSignaller]]));
    console.log(summary('broken cond: no sequence bump', r));
    expect(r.violation?.kind).toBe('lost-wakeup');
  });
});
