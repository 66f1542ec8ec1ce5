/**
 * Model checking of the LockCnt algorithm (lockcnt.ts), part 1: every pair of programs,
 * 3 visitors/lockers, and broken variants the checker must catch. Programs and checks:
 * lockcnt-programs.ts.
 */
import { describe, expect, it } from 'vitest';
import type { FutexOps } from '../../../packages/aio-core/src/locks/futex.js';
import { lockCntDec, lockCntLock } from '../../../packages/aio-core/src/locks/lockcnt.js';
import { C, type Body, freer, lastFrees, lockCntModel, locker, visitor } from './lockcnt-programs.js';
import { check, checkpoint, summary } from './model-checker.js';
import { expectClean } from './model-expect.js';

describe('/locking/model/lockcnt', () => {
  it('2 threads: every pair of visitor, last-visit freer (decAndLock, decIfLock), freer, locker', () => {
    const bodies: Record<string, Body> = {
      visitor,
      decAndLock: lastFrees(false),
      decIfLock: lastFrees(true),
      freer,
      locker: locker('unlock'),
      incAndUnlock: locker('incAndUnlock'),
    };
    const names = Object.keys(bodies);
    for (const [i, a] of names.entries()) {
      for (const b of names.slice(i)) {
        expectClean(`lockcnt ${a} / ${b}`, lockCntModel({ [`${a}1`]: bodies[a]!, [`${b}2`]: bodies[b]! }));
      }
    }
  });

  it('3 threads: two visitors and a freer', () => {
    expectClean('lockcnt visitor visitor freer', lockCntModel({ V1: visitor, V2: visitor, F: freer }));
  });

  it('3 threads: three contending lockers (WAITING and its hand-off)', () => {
    expectClean('lockcnt locker x3', lockCntModel({ L1: locker('unlock'), L2: locker('unlock'), L3: locker('unlock') }));
  });

  it('catches an unlock that clears the state without waking (lost wake-up)', () => {
    const brokenLocker: Body = (f, me) => {
      if (!lockCntLock(f, C, me)) return 'gave up';
      checkpoint(f, 'locked');
      f.write(1, 0);
      let val = f.load(C);
      for (;;) {
        const seen = f.compareExchange(C, val, val & ~3);
        if (seen === val) break;
        val = seen;
      } // no wake when WAITING
      return 'locked';
    };
    const r = check(lockCntModel({ L1: brokenLocker, L2: brokenLocker }));
    console.log(summary('broken lockcnt', r));
    expect(r.violation?.kind).toBe('lost-wakeup');
  });

  it('catches an inc that does not pass on a wake-up it was given', () => {
    // Same as lockCntInc, minus the final wake when it slept.
    const brokenInc = (f: FutexOps, me: number): boolean => {
      let val = f.load(C);
      for (;;) {
        if (val >= 4 || (val & 3) === 0) {
          const seen = f.compareExchange(C, val, val + 4);
          if (seen === val) return true;
          val = seen;
        } else if ((val & 3) === 1) {
          const seen = f.compareExchange(C, val, val + 1);
          val = seen === val ? val + 1 : seen;
        } else {
          if (f.read(1) === me) throw new Error('self');
          f.wait(C, val, false);
          val = f.load(C);
        }
      }
    };
    const brokenVisitor: Body = (f, me) => {
      brokenInc(f, me);
      checkpoint(f, 'in');
      lockCntDec(f, C);
      return 'visited';
    };
    const r = check(lockCntModel({ V: brokenVisitor, L1: locker('unlock'), L2: locker('unlock') }));
    console.log(summary('broken lockcnt inc', r));
    expect(r.violation?.kind).toBe('lost-wakeup');
  });
});
