/**
 * Model checking of the LockCnt algorithm (lockcnt.ts), part 2: the last visitor frees
 * the data while others visit, and lockers whose waits may give up. Programs and checks:
 * lockcnt-programs.ts.
 */
import { describe, it } from 'vitest';
import { lastFrees, lockCntModel, locker, visitor } from './lockcnt-programs.js';
import { expectClean } from './model-expect.js';

describe('/locking/model/lockcnt', () => {
  it('3 threads: the last of three visitors frees (decAndLock)', () => {
    expectClean('lockcnt decAndLock visitor visitor', lockCntModel({ F: lastFrees(false), V1: visitor, V2: visitor }));
  });

  it('3 threads where waits may give up (a thread that may not block)', () => {
    expectClean(
      'lockcnt visitor locker locker, giving up',
      lockCntModel({ V: visitor, L1: locker('unlock', true), L2: locker('incAndUnlock', true) }, ['timeout', 'abort', 'never']),
    );
  });
});
