/**
 * The context lock (aio_context_acquire/release): recursive, in shared memory, excluding
 * an IOThread's loop while held; the loop holds it while dispatching and drops it while
 * it sleeps; the lock-order rule (only the main thread holds two) in debug mode.
 */
import { AioContext, IOThread } from 'aio-under-test';
import { describe, expect, it } from 'vitest';
import { canBlock } from './support/runtime.js';

const moduleUrl = new URL('./workers/iothread-module.mjs', import.meta.url);

describe('context lock', () => {
  it('is recursive and error-checking in its own thread', async () => {
    const ctx = new AioContext({ name: 'locked' });
    await ctx.acquireAsync();
    expect(ctx.tryAcquire()).toBe(true);
    ctx.release();
    ctx.release();
    expect(() => ctx.release()).toThrow(expect.objectContaining({ code: 'ERR_AIO_NOT_OWNER' }));
    if (canBlock) {
      ctx.acquire();
      ctx.acquire();
      ctx.release();
      ctx.release();
    }
    ctx.close();
  });

  it('holding an IOThread context excludes its loop; releasing lets the call run', async () => {
    await using t = await IOThread.create({ module: moduleUrl });
    await t.context.acquireAsync();
    let settled = false;
    const result = t.call('add', 1, 2).then((v) => {
      settled = true;
      return v;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    t.context.release();
    expect(await result).toBe(3);
  });

  it('the loop holds the lock while dispatching and drops it while sleeping', async () => {
    await using t = await IOThread.create({ module: moduleUrl });
    const flag = new Int32Array(new SharedArrayBuffer(8));
    const busy = t.call('busyUntilTold', flag.buffer);
    await expect.poll(() => Atomics.load(flag, 0), { timeout: 20_000 }).toBe(1); // it runs
    expect(t.context.tryAcquire()).toBe(false); // dispatching 'busyUntilTold'
    Atomics.store(flag, 1, 1);
    Atomics.notify(flag, 1);
    expect(await busy).toBe('rested');
    await expect.poll(() => t.context.tryAcquire()).toBe(true); // asleep: free
    t.context.release();
  });

  it('lock order: outside the main thread, holding one context and taking another fails in debug mode', async () => {
    await using a = await IOThread.create({ name: 'ctx-a', module: moduleUrl });
    await using b = await IOThread.create({ name: 'ctx-b', module: moduleUrl });
    // a's loop holds a's lock while it runs the function that takes b's.
    const refused = (await a.call('takeOther', b.context.handle, true)) as string;
    expect(refused).toMatch(/^ERR_AIO_LOCK_ORDER/);
    expect(refused).toContain("'ctx-a'");
    expect(refused).toContain("'ctx-b'");
    expect(await a.call('takeOther', b.context.handle, false)).toBe('took it');
  });

  it('a remote handle of a closed context refuses the lock', async () => {
    const t = await IOThread.create({});
    const remote = t.context;
    await t.stop();
    expect(() => remote.tryAcquire()).toThrow(expect.objectContaining({ code: 'ERR_AIO_CLOSED' }));
  });
});
