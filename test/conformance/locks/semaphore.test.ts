/** Semaphore (QemuSemaphore), in one thread: counting, timed and async waits, handles. */
import { describe, expect, it } from 'vitest';
import { AioError } from '../../../packages/aio-core/src/base/errors.js';
import { Semaphore } from '../../../packages/aio-core/src/locks/index.js';
import { canBlock, countRefs, expectCode, settled, sleep, withHost } from './helpers.js';

describe('/locking/semaphore', () => {
  it('validates "initial"', () => {
    expect(() => new Semaphore(-1)).toThrow(RangeError);
    expect(() => new Semaphore(-1)).toThrow(/"initial"/);
    expect(() => new Semaphore(1.5)).toThrow(RangeError);
    expect(() => new Semaphore(2 ** 31)).toThrow(RangeError);
    expect(() => new Semaphore('1' as unknown as number)).toThrow(TypeError);
    expect(() => new (Semaphore as unknown as new () => Semaphore)()).toThrow(/"initial"/);
    expect(new Semaphore(0).value()).toBe(0);
    expect(new Semaphore(2 ** 31 - 1).value()).toBe(2 ** 31 - 1);
  });

  it('counts posts and waits; timedWait(0) is a trylock', () => {
    const s = new Semaphore(2);
    s.wait();
    expect(s.timedWait(0)).toBe(true);
    expect(s.value()).toBe(0);
    expect(s.timedWait(0)).toBe(false);
    s.post();
    s.post();
    expect(s.value()).toBe(2);
    s.wait();
    expect(s.timedWait(Infinity)).toBe(true);
    expect(s.value()).toBe(0);
  });

  it('timedWait gives up after the timeout, leaving no sleeper behind', () => {
    const s = new Semaphore(0);
    if (canBlock) {
      const t0 = performance.now();
      expect(s.timedWait(15)).toBe(false);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(10);
    } else {
      expectCode(() => s.timedWait(15), 'ERR_AIO_CANNOT_BLOCK', AioError);
    }
    expect(new Int32Array(s.handle.sab)[1]).toBe(0); // waiters
    s.post();
    expect(s.timedWait(0)).toBe(true);
  });

  it('wait() where the thread may not block throws ERR_AIO_CANNOT_BLOCK only if it must wait', () => {
    const s = new Semaphore(1);
    withHost({ canBlock: () => false }, () => {
      s.wait();
      expectCode(() => s.wait(), 'ERR_AIO_CANNOT_BLOCK', AioError);
    });
    expect(new Int32Array(s.handle.sab)[1]).toBe(0);
    expect(s.value()).toBe(0);
  });

  it('validates timedWait(ms) and waitAsync(signal), changing nothing', async () => {
    const s = new Semaphore(1);
    expect(() => s.timedWait(-1)).toThrow(RangeError);
    expect(() => s.timedWait(null as unknown as number)).toThrow(/"ms"/);
    await expect(s.waitAsync('x' as unknown as AbortSignal)).rejects.toThrow(/"signal"/);
    expect(s.value()).toBe(1);
  });

  it('refuses to overflow (ERR_AIO_UNBALANCED), changing nothing', () => {
    const s = new Semaphore(2 ** 31 - 1);
    expectCode(() => s.post(), 'ERR_AIO_UNBALANCED', AioError);
    expect(s.value()).toBe(2 ** 31 - 1);
  });

  it('waitAsync resolves on post, holding the host alive meanwhile', async () => {
    const s = new Semaphore(0);
    const refs = countRefs();
    try {
      const p = s.waitAsync();
      expect(await settled(p)).toBe(false);
      expect(refs.count()).toBe(1);
      s.post();
      await p;
      expect(refs.count()).toBe(0);
    } finally {
      refs.restore();
    }
    expect(s.value()).toBe(0);
    s.post();
    await s.waitAsync(); // a unit is there: no wait
  });

  it('waitAsync: an abort rejects with the reason, takes nothing, and strands no other waiter', async () => {
    const s = new Semaphore(0);
    const ac = new AbortController();
    const earlier = s.waitAsync();
    const aborted = s.waitAsync(ac.signal);
    await sleep(5);
    ac.abort('no');
    await expect(aborted).rejects.toBe('no');
    await sleep(5);
    s.post();
    await earlier;
    expect(s.value()).toBe(0);
    const ac2 = new AbortController();
    ac2.abort('already');
    s.post();
    await expect(s.waitAsync(ac2.signal)).rejects.toBe('already');
    expect(s.value()).toBe(1);
  });

  it('an abort racing a post hands the unit to the next waiter', async () => {
    const s = new Semaphore(0);
    const ac = new AbortController();
    const aborted = s.waitAsync(ac.signal);
    const later = s.waitAsync();
    await sleep(5);
    s.post(); // wakes `aborted`...
    ac.abort('no'); // ...which aborts before it runs
    await expect(aborted).rejects.toBe('no');
    await later;
    expect(s.value()).toBe(0);
  });

  it('has a handle; from() shares the count and does not reset it', () => {
    const s = new Semaphore(3);
    expect(s.handle).toEqual({ kind: 'aio.Semaphore', sab: s.handle.sab, index: 0 });
    const s2 = Semaphore.from(structuredClone(s.handle));
    expect(s2.value()).toBe(3);
    s2.wait();
    expect(s.value()).toBe(2);
    expectCode(() => Semaphore.from({ kind: 'aio.Mutex', sab: s.handle.sab, index: 0 } as never), 'ERR_AIO_BAD_HANDLE', AioError);
  });
});
