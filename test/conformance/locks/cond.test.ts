/**
 * Cond (QemuCond), in one thread: ownership checks, timed waits, the async form (which
 * another task of the same thread signals), handles.
 */
import { describe, expect, it } from 'vitest';
import { AioError } from '../../../packages/aio-core/src/base/errors.js';
import { Cond, Mutex } from '../../../packages/aio-core/src/locks/index.js';
import { OTHER, asThread, canBlock, expectCode, settled, withHost } from './helpers.js';

describe('/locking/cond', () => {
  it('wait/timedWait without holding the mutex throw ERR_AIO_NOT_OWNER, changing nothing', () => {
    const c = new Cond();
    const m = new Mutex();
    expectCode(() => c.wait(m), 'ERR_AIO_NOT_OWNER', AioError);
    expectCode(() => c.timedWait(m, 0), 'ERR_AIO_NOT_OWNER', AioError);
    asThread(OTHER, () => m.lock());
    expectCode(() => c.timedWait(m, 0), 'ERR_AIO_NOT_OWNER', AioError);
    expect(asThread(OTHER, () => m.tryLock())).toBe(false); // still held by OTHER
    asThread(OTHER, () => m.unlock());
  });

  it('validates its arguments, changing nothing', async () => {
    const c = new Cond();
    const m = new Mutex();
    m.lock();
    expect(() => c.wait({} as Mutex)).toThrow(TypeError);
    expect(() => c.wait(undefined as unknown as Mutex)).toThrow(/"m"/);
    expect(() => c.timedWait(m, -5)).toThrow(RangeError);
    expect(() => c.timedWait(m, 'x' as unknown as number)).toThrow(/"ms"/);
    await expect(c.waitAsync(null as unknown as Mutex)).rejects.toThrow(TypeError);
    m.unlock(); // still held by us
  });

  it('timedWait times out (false) with the mutex held again; signals are not remembered', () => {
    const c = new Cond();
    const m = new Mutex();
    m.lock();
    c.signal();
    c.broadcast();
    if (canBlock) {
      expect(c.timedWait(m, 0)).toBe(false);
      const t0 = performance.now();
      expect(c.timedWait(m, 15)).toBe(false);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(10);
    } else {
      expectCode(() => c.timedWait(m, 15), 'ERR_AIO_CANNOT_BLOCK', AioError);
    }
    expect(asThread(OTHER, () => m.tryLock())).toBe(false);
    m.unlock();
  });

  it('a thread that may not block gets ERR_AIO_CANNOT_BLOCK and keeps the mutex', () => {
    const c = new Cond();
    const m = new Mutex();
    m.lock();
    withHost({ canBlock: () => false }, () => {
      expectCode(() => c.wait(m), 'ERR_AIO_CANNOT_BLOCK', AioError);
      expectCode(() => c.timedWait(m, 0), 'ERR_AIO_CANNOT_BLOCK', AioError);
    });
    m.unlock();
  });

  it('waitAsync releases the mutex, and resolves once signalled and the mutex is back', async () => {
    const c = new Cond();
    const m = new Mutex();
    m.lock();
    const p = c.waitAsync(m);
    expect(m.tryLock()).toBe(true); // released while waiting
    expect(await settled(p)).toBe(false);
    c.signal();
    expect(await settled(p)).toBe(false); // signalled, but the mutex is still ours
    m.unlock();
    await p;
    expect(asThread(OTHER, () => m.tryLock())).toBe(false); // the waiter holds it again
    m.unlock();
  });

  it('signal wakes one waiter in arrival order; broadcast wakes all', async () => {
    const c = new Cond();
    const m = new Mutex();
    const order: string[] = [];
    const waiter = async (name: string): Promise<void> => {
      await m.lockAsync();
      const p = c.waitAsync(m);
      await p;
      order.push(name);
      m.unlock();
    };
    const a = waiter('a');
    const b = waiter('b');
    const d = waiter('d');
    await settled(Promise.resolve(), 10);
    c.signal();
    await a;
    expect(order).toEqual(['a']);
    c.broadcast();
    await Promise.all([b, d]);
    expect(order.sort()).toEqual(['a', 'b', 'd']);
    expect(m.tryLock()).toBe(true);
    m.unlock();
  });

  it('waitAsync without holding the mutex rejects with ERR_AIO_NOT_OWNER', async () => {
    const c = new Cond();
    const m = new Mutex();
    await expect(c.waitAsync(m)).rejects.toMatchObject({ code: 'ERR_AIO_NOT_OWNER' });
  });

  it('has a handle; from() shares the condition', async () => {
    const c = new Cond();
    expect(c.handle).toEqual({ kind: 'aio.Cond', sab: c.handle.sab, index: 0 });
    const c2 = Cond.from(structuredClone(c.handle));
    const m = new Mutex();
    m.lock();
    const p = c.waitAsync(m);
    c2.signal();
    await p;
    m.unlock();
    expectCode(() => Cond.from(new Mutex().handle as never), 'ERR_AIO_BAD_HANDLE', AioError);
    expect(() => Cond.from(42 as never)).toThrow(TypeError);
  });
});
