/**
 * LockCnt (QemuLockCnt), in one thread: the futex word layout (state in bits 0-1,
 * counter in steps of 4), the eight operations, error checks, handles.
 */
import { describe, expect, it } from 'vitest';
import { AioError } from '../../../packages/aio-core/src/base/errors.js';
import { LockCnt } from '../../../packages/aio-core/src/locks/index.js';
import { OTHER, asThread, expectCode, withHost } from './helpers.js';

const FREE = 0;
const LOCKED = 1;
const WAITING = 2;
const word = (l: LockCnt): number => Atomics.load(new Int32Array(l.handle.sab), l.handle.index);

describe('/locking/lockcnt', () => {
  it('counts visits in steps of 4 above the lock state', () => {
    const l = new LockCnt();
    expect([l.count(), word(l)]).toEqual([0, 0]);
    l.inc();
    l.inc();
    expect([l.count(), word(l)]).toEqual([2, 8]);
    l.lock();
    expect(word(l)).toBe(8 + LOCKED);
    l.inc(); // visits in progress: inc does not wait for the lock
    expect([l.count(), word(l)]).toEqual([3, 12 + LOCKED]);
    l.unlock();
    expect(word(l)).toBe(12 + FREE);
    l.dec();
    l.dec();
    l.dec();
    expect(word(l)).toBe(0);
  });

  it('dec at zero throws ERR_AIO_UNBALANCED, changing nothing', () => {
    const l = new LockCnt();
    expectCode(() => l.dec(), 'ERR_AIO_UNBALANCED', AioError);
    expectCode(() => l.decAndLock(), 'ERR_AIO_UNBALANCED', AioError);
    expectCode(() => l.decIfLock(), 'ERR_AIO_UNBALANCED', AioError);
    expect(word(l)).toBe(0);
  });

  it('decAndLock: takes the lock when the count goes 1 -> 0, else just decrements', () => {
    const l = new LockCnt();
    l.inc();
    l.inc();
    expect(l.decAndLock()).toBe(false);
    expect(word(l)).toBe(4);
    expect(l.decAndLock()).toBe(true);
    expect(word(l)).toBe(LOCKED);
    l.unlock();
    expect(word(l)).toBe(0);
  });

  it('decIfLock: only the last visit takes the lock; otherwise nothing changes', () => {
    const l = new LockCnt();
    l.inc();
    l.inc();
    expect(l.decIfLock()).toBe(false);
    expect(word(l)).toBe(8);
    l.dec();
    expect(l.decIfLock()).toBe(true);
    expect(word(l)).toBe(LOCKED);
    l.unlock();
  });

  it('incAndUnlock: unlocks and starts a visit in one step', () => {
    const l = new LockCnt();
    l.lock();
    l.incAndUnlock();
    expect([l.count(), word(l)]).toEqual([1, 4]);
    l.dec();
  });

  it('unlock/incAndUnlock by a non-holder throw ERR_AIO_NOT_OWNER, changing nothing', () => {
    const l = new LockCnt();
    expectCode(() => l.unlock(), 'ERR_AIO_NOT_OWNER', AioError);
    expectCode(() => l.incAndUnlock(), 'ERR_AIO_NOT_OWNER', AioError);
    l.lock();
    asThread(OTHER, () => {
      expectCode(() => l.unlock(), 'ERR_AIO_NOT_OWNER', AioError);
      expectCode(() => l.incAndUnlock(), 'ERR_AIO_NOT_OWNER', AioError);
    });
    expect(word(l)).toBe(LOCKED);
    l.unlock();
  });

  it('refuses to wait for itself (ERR_AIO_LOCK_ORDER): lock by the holder, inc at count 0', () => {
    const l = new LockCnt();
    l.lock();
    expectCode(() => l.lock(), 'ERR_AIO_LOCK_ORDER', AioError);
    expectCode(() => l.inc(), 'ERR_AIO_LOCK_ORDER', AioError); // the AB-BA case of lockcnt.h
    expect(word(l)).toBe(LOCKED);
    l.unlock();
    l.inc();
    l.lock();
    expectCode(() => l.decAndLock(), 'ERR_AIO_LOCK_ORDER', AioError);
    expect(word(l)).toBe(4 + LOCKED);
    l.inc(); // allowed: visits are in progress
    l.dec();
    l.unlock();
    l.dec();
    expect(word(l)).toBe(0);
  });

  it('where the thread may not block, waiting throws ERR_AIO_CANNOT_BLOCK and leaves a usable word', () => {
    const l = new LockCnt();
    asThread(OTHER, () => l.lock());
    withHost({ canBlock: () => false }, () => {
      expectCode(() => l.lock(), 'ERR_AIO_CANNOT_BLOCK', AioError);
      // The failed waiter marked the lock WAITING (someone may sleep), as QEMU does.
      expect(word(l)).toBe(WAITING);
      expectCode(() => l.inc(), 'ERR_AIO_CANNOT_BLOCK', AioError);
      expect(l.count()).toBe(0);
    });
    asThread(OTHER, () => l.incAndUnlock());
    expect(word(l)).toBe(4);
    expect(l.decIfLock()).toBe(true);
    l.unlock();
    expect(word(l)).toBe(0);
  });

  it('has a handle; from() shares the word', () => {
    const l = new LockCnt();
    expect(l.handle).toEqual({ kind: 'aio.LockCnt', sab: l.handle.sab, index: 0 });
    const l2 = LockCnt.from(structuredClone(l.handle));
    l.inc();
    expect(l2.count()).toBe(1);
    l2.dec();
    expect(l.count()).toBe(0);
    expectCode(() => LockCnt.from({ kind: 'aio.LockCnt' } as never), 'ERR_AIO_BAD_HANDLE', AioError);
  });
});
