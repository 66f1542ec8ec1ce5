/**
 * Model checking of the Mutex and RecMutex algorithms (mutex.ts, rec-mutex.ts): every
 * interleaving of 2-3 simulated threads, checking mutual exclusion, no lost wake-up, and
 * the final state; and deliberately broken variants, which the checker must catch.
 */
import { describe, expect, it } from 'vitest';
import { AioError } from '../../../packages/aio-core/src/base/errors.js';
import type { FutexOps } from '../../../packages/aio-core/src/locks/futex.js';
import { mutexAcquireContended, mutexLock, mutexUnlock } from '../../../packages/aio-core/src/locks/mutex.js';
import { recMutexLock, recMutexTryLock, recMutexUnlock } from '../../../packages/aio-core/src/locks/rec-mutex.js';
import { type GiveUp, type Model, check, checkpoint, summary } from './model-checker.js';
import { expectCaught, expectClean } from './model-expect.js';

/** Words: 0 the lock word (the holder's id, and the waiters flag), 2 threads inside the critical section. */
const STATE = 0;
const INSIDE = 2;
/** The waiters flag of the lock word (its sign bit). */
const WAITERS = -0x80000000;

type Lock = (f: FutexOps, me: number) => boolean;
type Unlock = (f: FutexOps, me: number) => void;

const lock: Lock = (f, me) => mutexLock(f, 0, me, false, true);
const lockAsync: Lock = (f, me) => mutexLock(f, 0, me, true, true);
const unlock: Unlock = (f, me) => mutexUnlock(f, 0, me, 'Mutex.unlock()');

/** A thread that takes the lock `rounds` times; each time, it spends one step inside. */
function locker(rounds: number, take: Lock = lock, release: Unlock = unlock) {
  return (f: FutexOps, me: number): number => {
    let held = 0;
    for (let k = 0; k < rounds; k++) {
      checkpoint(f, `round ${k}, held ${held}`);
      if (!take(f, me)) continue;
      checkpoint(f, `in ${k}, held ${held}`);
      f.add(INSIDE, 1);
      f.sub(INSIDE, 1);
      release(f, me);
      held++;
    }
    return held;
  };
}

function mutexModel(threads: number, rounds: number, giveUp: GiveUp[] = [], take: Lock = lock, release: Unlock = unlock): Model {
  return {
    words: 3,
    threads: Array.from({ length: threads }, (_, t) => ({
      name: `T${t + 1}`,
      run: locker(rounds, take, release),
      giveUp: giveUp[t] ?? 'never',
    })),
    invariant: (m) => (m[INSIDE]! > 1 ? 'two threads inside the critical section' : undefined),
    // A sleeper behind a free lock can only be a lost wake-up.
    canProceed: (m) => m[STATE] === 0,
    final: (m) => (m[STATE] !== 0 ? `mutex left in state ${m[STATE]}` : undefined),
  };
}


describe('/locking/model/mutex', () => {
  it('2 threads x 2 rounds', () => {
    const r = expectClean('mutex 2x2', mutexModel(2, 2));
    expect(r.truncated).toBe(0);
  });

  it('3 threads x 1 round', () => {
    expectClean('mutex 3x1', mutexModel(3, 1));
  });

  it('2 threads x 4 rounds', () => {
    expectClean('mutex 2x4', mutexModel(2, 4));
  });

  it('3 threads, two of them lockAsync with an AbortSignal (a notified waiter may abort)', () => {
    expectClean('mutex 3x1 abort', mutexModel(3, 1, ['abort', 'abort'], lockAsync));
  });

  it('3 threads, two of them timedLock (or a thread that may not block)', () => {
    expectClean('mutex 3x1 timeout', mutexModel(3, 1, ['timeout', 'never', 'timeout']));
  });

  it('2 threads x 2 rounds with spurious wake-ups (bounded)', () => {
    const model = { ...mutexModel(2, 2), spuriousWakeups: true };
    const r = check(model, { maxSteps: 40 });
    console.log(summary('mutex 2x2 spurious', r));
    expect(r.violation).toBeUndefined();
    expect(r.truncated).toBeGreaterThan(0); // wake-up loops are cut by the step bound
  });

  it('an unlock by a thread that holds nothing throws and frees nothing, at any point', () => {
    // The holder is named in the lock word, so the compare-exchange of unlock() is also
    // its ownership check: an intruder must never free a word another thread holds
    // (flagged or not), or a second locker gets inside.
    const intruder = (release: Unlock) => (f: FutexOps, me: number): number => {
      let refused = 0;
      for (let k = 0; k < 2; k++) {
        checkpoint(f, `intrude ${k}, refused ${refused}`);
        try {
          release(f, me);
        } catch (err) {
          // Only the refusal: the checker pauses a thread by throwing through it.
          if (!(err instanceof AioError) || err.code !== 'ERR_AIO_NOT_OWNER') throw err;
          refused++;
        }
      }
      if (refused !== 2) throw new Error('an unlock by a thread that held nothing succeeded');
      return refused;
    };
    const withIntruder = (release: Unlock): Model => {
      const model = mutexModel(2, 1);
      return { ...model, threads: [...model.threads, { name: 'I', run: intruder(release) }] };
    };
    expectClean('mutex 2x1 + intruder', withIntruder(unlock));
    // Caught: an unlock that checks only that the mutex is held, then frees it.
    const anyHolder: Unlock = (f) => {
      if (f.load(STATE) === 0) throw new AioError('ERR_AIO_NOT_OWNER', 'free');
      if (f.exchange(STATE, 0) < 0) f.notify(STATE, 1);
    };
    expectCaught('broken mutex: unlock by any thread', withIntruder(anyHolder), ['exception', 'invariant']);
  });

  it('catches a broken unlock that does not wake (lost wake-up)', () => {
    const brokenUnlock: Unlock = (f, me) => {
      const c = f.compareExchange(STATE, me, 0);
      if (c === me) return;
      if (c !== (me | WAITERS)) throw new Error('not owner');
      f.store(STATE, 0); // forgets to notify a flagged word's sleeper
    };
    const r = check(mutexModel(2, 1, [], lock, brokenUnlock));
    console.log(summary('broken mutex: unlock without wake', r));
    expect(r.violation?.kind).toBe('lost-wakeup');
    expect(r.violation?.trace.some((line) => / sleeps$/.test(line))).toBe(true);
  });

  it('catches a waiter that takes the lock unflagged after sleeping (Drepper mutex #1 bug)', () => {
    const brokenLock: Lock = (f, me) => {
      let c = f.compareExchange(STATE, 0, me);
      while (c !== 0) {
        if (c < 0 || f.compareExchange(STATE, c, c | WAITERS) === c) f.wait(STATE, c | WAITERS, false);
        c = f.compareExchange(STATE, 0, me); // should take it flagged: others may still sleep
      }
      return true;
    };
    const r = check(mutexModel(3, 1, [], brokenLock));
    console.log(summary('broken mutex: unflagged after sleeping', r));
    expect(r.violation?.kind).toBe('lost-wakeup');
  });

  it('catches an aborting waiter that does not pass on the wake-up it consumed', () => {
    const noPassOn: Lock = (f, me) => {
      let c = f.compareExchange(STATE, 0, me);
      while (c !== 0) {
        if (c > 0) {
          const seen = f.compareExchange(STATE, c, c | WAITERS);
          if (seen !== c) {
            c = seen === 0 ? f.compareExchange(STATE, 0, me | WAITERS) : seen;
            continue;
          }
          c |= WAITERS;
        }
        if (f.wait(STATE, c, true) === 'timed-out') return false; // no notify
        c = f.load(STATE);
        if (c === 0) c = f.compareExchange(STATE, 0, me | WAITERS);
      }
      return true;
    };
    const r = check(mutexModel(3, 1, ['abort', 'never', 'never'], noPassOn));
    console.log(summary('broken mutex: abort without passing on', r));
    expect(r.violation?.kind).toBe('lost-wakeup');
    // The real algorithm, same program: clean.
    expect(check(mutexModel(3, 1, ['abort', 'never', 'never'], (f, me) => mutexLock(f, 0, me, true, true))).violation).toBeUndefined();
  });

  it('the contended path alone keeps the lock word consistent when giving up', () => {
    // A waiter that gives up leaves the flag behind at worst; the holder's unlock then
    // notifies nobody, and the next locker still gets in.
    const model: Model = {
      words: 3,
      init: [9], // held by a thread (id 9) that is not simulated...
      threads: [
        { name: 'quitter', run: (f, me) => mutexAcquireContended(f, 0, me, 9, true), giveUp: 'timeout' },
        { name: 'holder', run: (f) => mutexUnlock(f, 0, 9, 'unlock') }, // ...and releases it here
      ],
      canProceed: (m) => m[STATE] === 0,
    };
    expectClean('mutex give-up', model);
  });
});

describe('/locking/model/rec-mutex', () => {
  // Words: 0 state, 1 owner, 2 depth (the RecMutex), 3 threads inside.
  const OWNER = 1;
  const DEPTH = 2;
  const IN = 3;
  const rec = (f: FutexOps, me: number, depth: number): boolean => {
    for (let d = 0; d < depth; d++) {
      checkpoint(f, `lock ${d}`);
      if (!recMutexLock(f, 0, me, true)) throw new Error('gave up');
    }
    checkpoint(f, 'in');
    f.add(IN, 1);
    f.sub(IN, 1);
    for (let d = 0; d < depth; d++) {
      checkpoint(f, `unlock ${d}`);
      recMutexUnlock(f, 0, me, 'RecMutex.unlock()');
    }
    return true;
  };
  it('3 threads: nested, plain and trylock', () => {
    expectClean('rec-mutex', {
      words: 4,
      threads: [
        { name: 'nested', run: (f, me) => rec(f, me, 2) },
        { name: 'plain', run: (f, me) => rec(f, me, 1) },
        {
          name: 'try',
          run: (f, me) => {
            if (!recMutexTryLock(f, 0, me)) return false;
            checkpoint(f, 'in');
            f.add(IN, 1);
            f.sub(IN, 1);
            recMutexUnlock(f, 0, me, 'RecMutex.unlock()');
            return true;
          },
        },
      ],
      invariant: (m) => (m[IN]! > 1 ? 'two threads inside' : undefined),
      canProceed: (m) => m[STATE] === 0,
      final: (m) => (m[STATE] !== 0 || m[OWNER] !== 0 || m[DEPTH] !== 0 ? `left ${m.join(',')}` : undefined),
    });
  });
});
