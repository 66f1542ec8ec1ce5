/**
 * Model checking of the waits added for the async-mutex style API: the weighted semaphore
 * acquire (semaphore.ts semAcquire, and semPost waking every sleeper while a weighted one
 * is announced), Mutex.waitForUnlock (mutex.ts mutexAwaitFree, which sleeps on the
 * Drepper word beside the lockers), every interleaving of 3 simulated threads; and broken
 * variants the checker must catch.
 */
import { describe, it } from 'vitest';
import type { FutexOps } from '../../../packages/aio-core/src/locks/futex.js';
import { mutexAwaitFree, mutexLock, mutexUnlock } from '../../../packages/aio-core/src/locks/mutex.js';
import { semAcquire, semPost, semWait } from '../../../packages/aio-core/src/locks/semaphore.js';
import { type GiveUp, type Model, checkpoint } from './model-checker.js';
import { expectCaught, expectClean } from './model-expect.js';

describe('/locking/model/weighted-semaphore', () => {
  // Words: 0 count, 1 waiters, 2 finished threads (bit 1: the unit waiter, bit 2: the weighted one).
  const COUNT = 0;
  const WAITERS = 1;
  const DONE = 2;
  type Take = (f: FutexOps, n: number) => boolean;
  const weighted: Take = (f, n) => semAcquire(f, 0, n, true, true);

  /** Takes `n` units (one with wait() when `n` is 0) and gives them back; marks itself done with `bit`. */
  const borrower =
    (n: number, bit: number, take: Take = weighted) =>
    (f: FutexOps): boolean => {
      const took = n === 0 ? semWait(f, 0, true) : take(f, n);
      checkpoint(f, `took ${took}`);
      if (took) semPost(f, 0, Math.max(n, 1));
      f.or(DONE, bit);
      return took;
    };

  /**
   * A poster of `units` units in one post, a unit waiter, and a weighted waiter of
   * `weight`. A sleeper that could go on: the unit waiter at count >= 1, the weighted one
   * at count >= weight, while not done.
   */
  const model = (units: number, weight: number, giveUp: [GiveUp, GiveUp], take: Take = weighted): Model => ({
    words: 3,
    threads: [
      { name: 'P', run: (f) => semPost(f, 0, units) },
      { name: 'S', run: borrower(0, 1), giveUp: giveUp[0] },
      { name: 'H', run: borrower(weight, 2, take), giveUp: giveUp[1] },
    ],
    canProceed: (m) => ((m[DONE]! & 1) === 0 && m[COUNT]! >= 1) || ((m[DONE]! & 2) === 0 && m[COUNT]! >= weight),
    final: (m) => (m[COUNT] !== units || m[WAITERS] !== 0 ? `final count ${m[COUNT]}, waiters ${m[WAITERS]}` : undefined),
  });

  it('a post of 2 serves a unit waiter and a weighted waiter of 2', () => {
    expectClean('semaphore post(2) / wait / acquire(2)', model(2, 2, ['never', 'never']));
  });

  it('a post of 1 wakes the unit waiter past a weighted waiter of 2 that cannot be served', () => {
    // Nothing ever gives the weighted waiter 2 units: it times out, the unit waiter must not sleep on.
    expectClean('semaphore post(1) / wait / acquire(2, timeout)', model(1, 2, ['never', 'timeout']));
  });

  it('either waiter may abort after being woken', () => {
    expectClean('semaphore post(2) / wait(abort) / acquire(2, abort)', model(2, 2, ['abort', 'abort']));
    expectClean('semaphore post(1) / wait(abort) / acquire(1, abort)', model(1, 1, ['abort', 'abort']));
  });

  it('waitForUnlock (take nothing) sees the units a post brings', () => {
    const look: Take = (f, n) => {
      const seen = semAcquire(f, 0, n, false, true);
      // Counts as taking nothing: borrower() gives back what it took, so take them here.
      if (seen) semAcquire(f, 0, n, true, false);
      return seen;
    };
    expectClean('semaphore post(2) / wait / waitForUnlock(2)', model(2, 2, ['never', 'never'], look));
  });

  it('catches a weighted waiter announced as a unit waiter (a post wakes it alone, the unit waiter sleeps on)', () => {
    const announcedAsUnit: Take = (f, n) => {
      for (;;) {
        const c = f.load(COUNT);
        if (c >= n) {
          if (f.compareExchange(COUNT, c, c - n) === c) return true;
          continue;
        }
        f.add(WAITERS, 1); // should be WEIGHTED
        const r = f.wait(COUNT, c, true);
        f.sub(WAITERS, 1);
        if (r === 'timed-out') return false;
      }
    };
    expectCaught('broken weighted announce', model(1, 2, ['never', 'timeout'], announcedAsUnit), ['lost-wakeup']);
  });
});

describe('/locking/model/mutex-wait-for-unlock', () => {
  // Words: 0 the lock word, 2 threads inside the critical section.
  const STATE = 0;
  const INSIDE = 2;
  const WAITERS = -0x80000000;
  const locker = (f: FutexOps, me: number): boolean => {
    if (!mutexLock(f, 0, me, false, true)) return false;
    checkpoint(f, 'in');
    f.add(INSIDE, 1);
    f.sub(INSIDE, 1);
    mutexUnlock(f, 0, me, 'Mutex.unlock()');
    return true;
  };
  type Await = (f: FutexOps) => boolean;
  const awaitFree: Await = (f) => mutexAwaitFree(f, 0, true);
  const model = (w: Await, giveUp: GiveUp = 'never', rounds = 1): Model => ({
    words: 3,
    threads: [
      { name: 'L1', run: locker },
      { name: 'L2', run: locker },
      {
        name: 'W',
        run: (f) => {
          let seen = 0;
          for (let k = 0; k < rounds; k++) {
            checkpoint(f, `round ${k}, seen ${seen}`);
            if (w(f)) seen++;
          }
          return seen;
        },
        giveUp,
      },
    ],
    invariant: (m) => (m[INSIDE]! > 1 ? 'two threads inside the critical section' : undefined),
    // A sleeper behind a free lock (locker or watcher) can only be a lost wake-up.
    canProceed: (m) => m[STATE] === 0,
    final: (m) => (m[STATE] !== 0 ? `mutex left in state ${m[STATE]}` : undefined),
  });

  it('two lockers and a waiter for the free lock', () => {
    expectClean('mutex lock x2 / waitForUnlock', model(awaitFree));
  });

  it('two lockers and a waiter that waits twice', () => {
    expectClean('mutex lock x2 / waitForUnlock x2', model(awaitFree, 'never', 2));
  });

  it('two lockers and a waiter that may abort after being woken', () => {
    expectClean('mutex lock x2 / waitForUnlock(abort)', model(awaitFree, 'abort'));
  });

  it('catches a waiter that takes the unlock wake-up and does not pass it on', () => {
    const noPassOn: Await = (f) => {
      for (;;) {
        const c = f.load(STATE);
        if (c === 0) return true;
        if (c > 0 && f.compareExchange(STATE, c, c | WAITERS) !== c) continue;
        f.wait(STATE, c | WAITERS, true); // returns without waking the locker the unlock meant
      }
    };
    expectCaught('broken waitForUnlock, no pass-on', model(noPassOn), ['lost-wakeup']);
  });

  it('catches a waiter that sleeps on a held word without flagging it', () => {
    const unmarked: Await = (f) => {
      for (;;) {
        const c = f.load(STATE);
        if (c === 0) return true;
        if (f.wait(STATE, c, true) === 'ok' && f.load(STATE) === 0) {
          f.notify(STATE, 1);
          return true;
        }
      }
    };
    expectCaught('broken waitForUnlock, unmarked', model(unmarked), ['lost-wakeup']);
  });
});
