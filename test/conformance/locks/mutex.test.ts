/**
 * Mutex and RecMutex (QemuMutex, QemuRecMutex), in one thread: locking rules, error
 * checking, timed and async forms, handles. "Another thread" is simulated by switching
 * this thread's lock id (setThreadId); real cross-thread tests live elsewhere.
 */
import { describe, expect, it } from 'vitest';
import { AioError } from '../../../packages/aio-core/src/base/errors.js';
import { Mutex, RecMutex, threadId } from '../../../packages/aio-core/src/locks/index.js';
import { OTHER, asThread, canBlock, countRefs, expectCode, expectRejectCode, settled, sleep, withHost } from './helpers.js';

const noBlock = { canBlock: () => false };

describe('/locking/mutex', () => {
  it('locks, refuses a second locker, unlocks', () => {
    const m = new Mutex();
    expect(m.tryLock()).toBe(true);
    expect(m.tryLock()).toBe(false);
    expect(asThread(OTHER, () => m.tryLock())).toBe(false);
    m.unlock();
    m.lock();
    m.unlock();
    expect(m.tryLock()).toBe(true);
    m.unlock();
  });

  it('names its holder in its one word, with the waiters flag in the sign bit', () => {
    const m = new Mutex();
    expect(m.handle.sab.byteLength).toBe(4);
    const w = new Int32Array(m.handle.sab, m.handle.index * 4, 1);
    expect(w[0]).toBe(0);
    m.lock();
    expect(w[0]).toBe(threadId());
    m.unlock();
    expect(w[0]).toBe(0);
    // A waiter flags the held word before it sleeps; the holder's unlock then frees it
    // (and wakes one), while another thread's unlock changes nothing.
    m.lock();
    w[0] = threadId() | -0x80000000;
    asThread(OTHER, () => expectCode(() => m.unlock(), 'ERR_AIO_NOT_OWNER', AioError));
    expect(w[0]).toBe(threadId() | -0x80000000);
    expect(m.isLocked()).toBe(true);
    m.unlock();
    expect(w[0]).toBe(0);
    expect(m.isLocked()).toBe(false);
  });

  it('throws ERR_AIO_NOT_OWNER on unlock of a free mutex, changing nothing', () => {
    const m = new Mutex();
    expectCode(() => m.unlock(), 'ERR_AIO_NOT_OWNER', AioError);
    expect(m.tryLock()).toBe(true);
    m.unlock();
  });

  it('throws ERR_AIO_NOT_OWNER on unlock by another thread; the holder still owns it', () => {
    const m = new Mutex();
    m.lock();
    const e = asThread(OTHER, () => expectCode(() => m.unlock(), 'ERR_AIO_NOT_OWNER', AioError));
    expect(e.message).toMatch(/Mutex\.unlock\(\)/);
    expect(asThread(OTHER, () => m.tryLock())).toBe(false);
    m.unlock();
    expect(asThread(OTHER, () => m.tryLock())).toBe(true);
    asThread(OTHER, () => m.unlock());
  });

  it('refuses to deadlock when the holder locks again (ERR_AIO_LOCK_ORDER)', () => {
    const m = new Mutex();
    m.lock();
    expectCode(() => m.lock(), 'ERR_AIO_LOCK_ORDER', AioError);
    expectCode(() => m.timedLock(5), 'ERR_AIO_LOCK_ORDER', AioError);
    m.unlock();
    expect(m.tryLock()).toBe(true);
    m.unlock();
  });

  it('throws ERR_AIO_CANNOT_BLOCK only when it would have to wait, leaving it consistent', () => {
    const m = new Mutex();
    withHost(noBlock, () => {
      m.lock(); // uncontended: never waits
      m.unlock();
      asThread(OTHER, () => m.lock());
      expectCode(() => m.lock(), 'ERR_AIO_CANNOT_BLOCK', AioError);
      expectCode(() => m.timedLock(50), 'ERR_AIO_CANNOT_BLOCK', AioError);
      expect(m.timedLock(0)).toBe(false); // a zero timeout never waits
      asThread(OTHER, () => m.unlock());
      m.lock();
      m.unlock();
    });
  });

  it('timedLock: true when free, false after the timeout when held', () => {
    const m = new Mutex();
    expect(m.timedLock(10)).toBe(true);
    m.unlock();
    asThread(OTHER, () => m.lock());
    expect(m.timedLock(0)).toBe(false);
    if (canBlock) {
      const t0 = performance.now();
      expect(m.timedLock(20)).toBe(false);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
    }
    asThread(OTHER, () => m.unlock());
    expect(m.timedLock(Infinity)).toBe(true);
    m.unlock();
  });

  it('validates timedLock(ms)', () => {
    const m = new Mutex();
    expect(() => m.timedLock('1' as unknown as number)).toThrow(TypeError);
    expect(() => m.timedLock(Number.NaN)).toThrow(/"ms"/);
    expect(() => m.timedLock(-1)).toThrow(RangeError);
    expect(() => m.timedLock(-1)).toThrow(/"ms"/);
    expect(m.tryLock()).toBe(true);
    m.unlock();
  });

  it('lockAsync: resolves at once when free, waits for the holder otherwise', async () => {
    const m = new Mutex();
    await m.lockAsync();
    m.unlock();
    asThread(OTHER, () => m.lock());
    const refs = countRefs();
    try {
      const p = m.lockAsync();
      expect(await settled(p)).toBe(false);
      expect(refs.count()).toBe(1); // keeps the host alive while it waits
      asThread(OTHER, () => m.unlock());
      await p;
      expect(refs.count()).toBe(0);
    } finally {
      refs.restore();
    }
    expect(asThread(OTHER, () => m.tryLock())).toBe(false);
    m.unlock();
  });

  it('lockAsync: another task of the holding thread waits instead of failing', async () => {
    const m = new Mutex();
    m.lock();
    const p = m.lockAsync();
    expect(await settled(p)).toBe(false);
    m.unlock();
    await p;
    m.unlock();
  });

  it('lockAsync: rejects with the reason of an already aborted signal, changing nothing', async () => {
    const m = new Mutex();
    const ac = new AbortController();
    const reason = new Error('stop');
    ac.abort(reason);
    await expect(m.lockAsync(ac.signal)).rejects.toBe(reason);
    expect(m.tryLock()).toBe(true);
    m.unlock();
  });

  it('lockAsync: an abort leaves no abandoned waiter to swallow a later wake-up', async () => {
    const m = new Mutex();
    asThread(OTHER, () => m.lock());
    const ac = new AbortController();
    const earlier = m.lockAsync(); // queued before the one that aborts
    const aborted = m.lockAsync(ac.signal);
    await sleep(5);
    ac.abort('gone');
    await expect(aborted).rejects.toBe('gone');
    await sleep(5); // lets `earlier` go back to sleep, behind the abandoned waiter if it stayed
    asThread(OTHER, () => m.unlock());
    await earlier; // would hang if the abandoned Atomics.waitAsync took the unlock's wake-up
    m.unlock();
    expect(m.tryLock()).toBe(true);
    m.unlock();
  });

  it('lockAsync: an abort racing the wake-up passes the wake-up on', async () => {
    const m = new Mutex();
    asThread(OTHER, () => m.lock());
    const ac = new AbortController();
    const aborted = m.lockAsync(ac.signal);
    const later = m.lockAsync();
    await sleep(5);
    asThread(OTHER, () => m.unlock()); // wakes `aborted` (first in line)...
    ac.abort('gone'); // ...which aborts before it runs
    await expect(aborted).rejects.toBe('gone');
    await later; // would hang if the consumed wake-up were not passed on
    m.unlock();
    expect(m.tryLock()).toBe(true);
    m.unlock();
  });

  it('lockAsync validates its signal', async () => {
    const m = new Mutex();
    await expectRejectCode(m.lockAsync({} as AbortSignal), 'ERR_INVALID_ARG_TYPE', TypeError);
    await expect(m.lockAsync(42 as unknown as AbortSignal)).rejects.toThrow(/"signal"/);
    expect(m.tryLock()).toBe(true);
    m.unlock();
  });

  it('has a structured-cloneable handle; from() shares the lock', () => {
    const m = new Mutex();
    const h = m.handle;
    expect(h).toEqual({ kind: 'aio.Mutex', sab: h.sab, index: 0 });
    expect(h.sab).toBeInstanceOf(SharedArrayBuffer);
    expect(Object.isFrozen(h)).toBe(true);
    const m2 = Mutex.from(structuredClone(h));
    m.lock();
    expect(m2.tryLock()).toBe(false);
    m2.unlock(); // same thread, same lock
    expect(m.tryLock()).toBe(true);
    m.unlock();
  });

  it('from() rejects what is not a Mutex handle', () => {
    const m = new Mutex();
    expect(() => Mutex.from(null as never)).toThrow(TypeError);
    expect(() => Mutex.from(undefined as never)).toThrow(/"handle"/);
    expectCode(() => Mutex.from(new RecMutex().handle as never), 'ERR_AIO_BAD_HANDLE', AioError);
    expectCode(() => Mutex.from({ ...m.handle, sab: new ArrayBuffer(8) } as never), 'ERR_AIO_BAD_HANDLE', AioError);
    expectCode(() => Mutex.from({ ...m.handle, index: 1 }), 'ERR_AIO_BAD_HANDLE', AioError);
    expectCode(() => Mutex.from({ ...m.handle, index: -1 }), 'ERR_AIO_BAD_HANDLE', AioError);
    expectCode(() => Mutex.from({ ...m.handle, index: 0.5 }), 'ERR_AIO_BAD_HANDLE', AioError);
  });

  it('can live at any word of a larger buffer', () => {
    const sab = new SharedArrayBuffer(64);
    const m = Mutex.from({ kind: 'aio.Mutex', sab, index: 6 });
    m.lock();
    expect(new Int32Array(sab)[6]).toBe(threadId());
    expect(m.handle.index).toBe(6);
    m.unlock();
  });
});

describe('/locking/rec-mutex', () => {
  it('the holder locks again; it frees on the last unlock', () => {
    const m = new RecMutex();
    m.lock();
    m.lock();
    expect(m.tryLock()).toBe(true);
    expect(m.timedLock(0)).toBe(true);
    const w = new Int32Array(m.handle.sab, 0, 3);
    expect([w[0], w[1], w[2]]).toEqual([1, threadId(), 4]);
    for (let i = 0; i < 3; i++) {
      m.unlock();
      expect(asThread(OTHER, () => m.tryLock())).toBe(false);
    }
    m.unlock();
    expect([w[0], w[1], w[2]]).toEqual([0, 0, 0]);
    expect(asThread(OTHER, () => m.tryLock())).toBe(true);
    asThread(OTHER, () => m.unlock());
  });

  it('throws ERR_AIO_NOT_OWNER for a free mutex or another thread, changing nothing', () => {
    const m = new RecMutex();
    expectCode(() => m.unlock(), 'ERR_AIO_NOT_OWNER', AioError);
    m.lock();
    asThread(OTHER, () => expectCode(() => m.unlock(), 'ERR_AIO_NOT_OWNER', AioError));
    m.unlock();
    expectCode(() => m.unlock(), 'ERR_AIO_NOT_OWNER', AioError);
  });

  it('waits for, or refuses, another thread; CANNOT_BLOCK where the thread may not block', async () => {
    const m = new RecMutex();
    asThread(OTHER, () => m.lock());
    expect(m.timedLock(0)).toBe(false);
    withHost(noBlock, () => expectCode(() => m.lock(), 'ERR_AIO_CANNOT_BLOCK', AioError));
    const p = m.lockAsync();
    expect(await settled(p)).toBe(false);
    asThread(OTHER, () => m.unlock());
    await p;
    await m.lockAsync(); // recursive, at once
    m.unlock();
    m.unlock();
    expect(asThread(OTHER, () => m.tryLock())).toBe(true);
    asThread(OTHER, () => m.unlock());
  });

  it('lockAsync honours an abort', async () => {
    const m = new RecMutex();
    asThread(OTHER, () => m.lock());
    const ac = new AbortController();
    const p = m.lockAsync(ac.signal);
    ac.abort(new Error('late'));
    await expect(p).rejects.toThrow('late');
    asThread(OTHER, () => m.unlock());
    expect(m.tryLock()).toBe(true);
    m.unlock();
  });

  it('has its own handle kind', () => {
    const m = new RecMutex();
    expect(m.handle.kind).toBe('aio.RecMutex');
    const m2 = RecMutex.from(structuredClone(m.handle));
    m.lock();
    m2.lock();
    m2.unlock();
    m.unlock();
    expect(asThread(OTHER, () => m2.tryLock())).toBe(true);
    asThread(OTHER, () => m2.unlock());
    expectCode(() => RecMutex.from(new Mutex().handle as never), 'ERR_AIO_BAD_HANDLE', AioError);
  });
});
