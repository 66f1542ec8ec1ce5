/**
 * Event (QemuEvent), in one thread: the three word values SET 0 / FREE 1 / BUSY -1 and
 * their transitions, timed and async waits, handles.
 */
import { describe, expect, it } from 'vitest';
import { AioError } from '../../../packages/aio-core/src/base/errors.js';
import { Event } from '../../../packages/aio-core/src/locks/index.js';
import { canBlock, expectCode, settled, sleep, withHost } from './helpers.js';

const SET = 0;
const FREE = 1;
const BUSY = -1;

const word = (e: Event): number => Atomics.load(new Int32Array(e.handle.sab), e.handle.index);

describe('/locking/event', () => {
  it('starts FREE, or SET when asked; validates "initiallySet"', () => {
    expect(word(new Event())).toBe(FREE);
    expect(new Event().isSet()).toBe(false);
    expect(word(new Event(true))).toBe(SET);
    expect(new Event(true).isSet()).toBe(true);
    expect(() => new Event(1 as unknown as boolean)).toThrow(TypeError);
    expect(() => new Event('yes' as unknown as boolean)).toThrow(/"initiallySet"/);
  });

  it('set: FREE -> SET; reset: SET -> FREE; both idempotent', () => {
    const e = new Event();
    e.set();
    expect(word(e)).toBe(SET);
    e.set();
    expect(word(e)).toBe(SET);
    e.reset();
    expect(word(e)).toBe(FREE);
    e.reset();
    expect(word(e)).toBe(FREE);
  });

  it('wait returns at once when set; timedWait is false on timeout', () => {
    const e = new Event(true);
    e.wait();
    expect(e.timedWait(0)).toBe(true);
    e.reset();
    expect(e.timedWait(0)).toBe(false);
    if (canBlock) {
      const t0 = performance.now();
      expect(e.timedWait(15)).toBe(false);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(10);
      expect(word(e)).toBe(BUSY); // a sleeper was announced; the next set() wakes (nobody)
    } else {
      expectCode(() => e.timedWait(15), 'ERR_AIO_CANNOT_BLOCK', AioError);
    }
    e.set();
    expect(word(e)).toBe(SET);
    expect(e.timedWait(Infinity)).toBe(true);
  });

  it('wait() where the thread may not block throws ERR_AIO_CANNOT_BLOCK unless set', () => {
    const e = new Event(true);
    withHost({ canBlock: () => false }, () => {
      e.wait();
      e.reset();
      expectCode(() => e.wait(), 'ERR_AIO_CANNOT_BLOCK', AioError);
    });
    e.set();
    expect(e.isSet()).toBe(true);
  });

  it('waitAsync: FREE -> BUSY while waiting; reset keeps BUSY; set wakes every waiter', async () => {
    const e = new Event();
    const a = e.waitAsync();
    const b = e.waitAsync();
    expect(word(e)).toBe(BUSY);
    e.reset(); // -1 | 1 == -1: a sleeper is never forgotten
    expect(word(e)).toBe(BUSY);
    expect(await settled(Promise.race([a, b]))).toBe(false);
    e.set();
    await Promise.all([a, b]);
    expect(word(e)).toBe(SET);
    await e.waitAsync();
  });

  it('waitAsync honours an AbortSignal and validates it', async () => {
    const e = new Event();
    const ac = new AbortController();
    const other = e.waitAsync();
    const p = e.waitAsync(ac.signal);
    await sleep(5);
    ac.abort(new Error('cancelled'));
    await expect(p).rejects.toThrow('cancelled');
    expect(await settled(other)).toBe(false);
    e.set();
    await other;
    const done = new AbortController();
    done.abort('x');
    await expect(e.waitAsync(done.signal)).rejects.toBe('x');
    await expect(e.waitAsync({ aborted: false } as AbortSignal)).rejects.toThrow(/"signal"/);
  });

  it('validates timedWait(ms)', () => {
    const e = new Event();
    expect(() => e.timedWait(-0.5)).toThrow(RangeError);
    expect(() => e.timedWait(undefined as unknown as number)).toThrow(/"ms"/);
    expect(word(e)).toBe(FREE);
  });

  it('has a handle; from() shares the state and does not reset it', () => {
    const e = new Event(true);
    expect(e.handle).toEqual({ kind: 'aio.Event', sab: e.handle.sab, index: 0 });
    const e2 = Event.from(structuredClone(e.handle));
    expect(e2.isSet()).toBe(true);
    e2.reset();
    expect(e.isSet()).toBe(false);
    expectCode(() => Event.from({ kind: 'aio.Event', sab: e.handle.sab, index: 1 }), 'ERR_AIO_BAD_HANDLE', AioError);
  });
});
