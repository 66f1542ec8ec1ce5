/**
 * Model checking of the short lock (locks/short-lock.ts), the Mutex algorithm with a spin
 * phase and owner-death takeover that guards the inbox producers and the shared CoMutex
 * ring: mutual exclusion, no lost wake-up between spinners and sleepers, a thread that
 * may not block spinning beside threads that sleep, and exactly one takeover of a holder
 * that died; and a broken takeover, which the checker must catch.
 */
import { describe, expect, it } from 'vitest';
import type { FutexOps } from '../../../packages/aio-core/src/locks/futex.js';
import { mutexAcquireContended } from '../../../packages/aio-core/src/locks/mutex.js';
import { shortTryLock, shortUnlock } from '../../../packages/aio-core/src/locks/short-lock.js';
import { type GiveUp, type Model, type SimThread, check, checkpoint } from './model-checker.js';
import { BLOCKING, type ShortLockStyle, deathsAt, takeShortLock } from './short-lock-programs.js';
import { brokenSummary, expectClean } from './model-expect.js';

/** Words: 0 state, 1 owner (the short lock), 2 threads inside, 3 the id of a thread that ended. */
const STATE = 0;
const OWNER = 1;
const INSIDE = 2;
const DEAD = 3;

type Take = (f: FutexOps, label: string, me: number) => boolean;

const take =
  (style: ShortLockStyle = BLOCKING): Take =>
  (f, label, me) =>
    takeShortLock(f, label, STATE, OWNER, me, style, deathsAt(f, DEAD));

/** Takes the lock `rounds` times, one step inside each time; returns how often it took it over. */
function locker(rounds: number, lock: Take = take()): SimThread['run'] {
  return (f, me) => {
    let tookOver = 0;
    for (let k = 0; k < rounds; k++) {
      const label = `round ${k}, took over ${tookOver}`;
      checkpoint(f, label);
      if (lock(f, label, me)) tookOver++;
      checkpoint(f, `in ${k}, took over ${tookOver}`);
      f.add(INSIDE, 1);
      f.sub(INSIDE, 1);
      shortUnlock(f, STATE, OWNER);
    }
    return tookOver;
  };
}

/** Takes the lock and ends holding it (its end recorded, as a creator records a worker's). */
const dier: SimThread['run'] = (f, me) => {
  take()(f, 'dier', me);
  checkpoint(f, 'dying');
  f.store(DEAD, me);
  return 0;
};

function shortLockModel(threads: [string, SimThread['run'], GiveUp?][], extra: Partial<Model> = {}): Model {
  return {
    words: 4,
    threads: threads.map(([name, run, giveUp]) => ({ name, run, giveUp: giveUp ?? 'never' })),
    invariant: (m) => (m[INSIDE]! > 1 ? 'two threads inside the critical section' : undefined),
    // A sleeper behind a free lock can only be a lost wake-up.
    canProceed: (m) => m[STATE] === 0,
    final: (m) => (m[STATE] !== 0 || m[OWNER] !== 0 ? `lock left in state ${m[STATE]}, owner ${m[OWNER]}` : undefined),
    ...extra,
  };
}


/** A holder that died: the lock is free at the end unless nobody came after it; at most one takeover. */
const afterDeath: Partial<Model> = {
  final: (m, results) => {
    const takeovers = (results as number[]).reduce((a, b) => a + b, 0);
    if (takeovers > 1) return `${takeovers} threads took over one dead holder`;
    const heldByDead = m[STATE] !== 0 && m[OWNER] === m[DEAD];
    if (takeovers === 0 && !heldByDead && m[STATE] !== 0) return `lock left in state ${m[STATE]}, owner ${m[OWNER]}`;
    if (takeovers === 1 && (m[STATE] !== 0 || m[OWNER] !== 0)) return `lock left in state ${m[STATE]}, owner ${m[OWNER]} after a takeover`;
    return undefined;
  },
};

describe('/locking/model/short-lock', () => {
  it('3 threads x 1 round', () => {
    const r = expectClean('short lock 3x1', shortLockModel([['T1', locker(1)], ['T2', locker(1)], ['T3', locker(1)]]));
    expect(r.truncated).toBe(0);
  });

  it('2 threads x 2 rounds, waits bounded (rounds repeat), owner word accesses as steps', () => {
    expectClean(
      'short lock 2x2 bounded',
      shortLockModel([
        ['T1', locker(2), 'timeout'],
        ['T2', locker(2), 'timeout'],
      ]),
      { plainAccessesAreSteps: true, maxSteps: 60 },
    );
  });

  it('a thread that may not block spins beside two that sleep', () => {
    const r = expectClean(
      'short lock spinner + 2 sleepers',
      shortLockModel([
        ['spinner', locker(1, take({ spins: 2, mayBlock: false }))],
        ['T2', locker(1)],
        ['T3', locker(1), 'timeout'],
      ]),
      { maxSteps: 60 },
    );
    expect(r.truncated).toBeGreaterThan(0); // a spinner that is never preempted spins for ever
  });

  it('a holder that dies is taken over by exactly one of two waiters', () => {
    expectClean(
      'short lock owner death',
      shortLockModel(
        [
          ['dier', dier],
          ['W1', locker(1), 'timeout'],
          ['W2', locker(1), 'timeout'],
        ],
        afterDeath,
      ),
      { maxSteps: 80 },
    );
  });

  it('catches a takeover that stores the owner word instead of compare-exchanging it', () => {
    const brokenTake: Take = (f, label, me) => {
      if (shortTryLock(f, STATE, OWNER, me)) return false;
      for (;;) {
        checkpoint(f, label);
        if (mutexAcquireContended(f, STATE, 1, 1, true)) {
          f.write(OWNER, me);
          return false;
        }
        const holder = f.load(OWNER);
        if (holder !== 0 && holder !== me && f.load(DEAD) === holder) {
          f.store(OWNER, me); // both waiters can get here for one dead holder
          return true;
        }
      }
    };
    const r = check(
      shortLockModel(
        [
          ['dier', dier],
          ['W1', locker(1, brokenTake), 'timeout'],
          ['W2', locker(1, brokenTake), 'timeout'],
        ],
        afterDeath,
      ),
      { maxSteps: 80 },
    );
    console.log(brokenSummary('broken short lock: takeover by store', r));
    // Both waiters inside, or both reporting a takeover, whichever the search meets first.
    expect(['invariant', 'final']).toContain(r.violation?.kind);
  });
});
