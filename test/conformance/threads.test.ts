/**
 * Cross-thread wake-ups with real workers: a notify, a remote bottom-half schedule, or an
 * event-notifier set from another thread wakes a context that sleeps in a blocking poll
 * (poll(true) in a worker; on the main thread poll(true) where it may block, else pollAsync).
 */
import { AioContext, EventNotifier, registerFunction, unregisterFunction } from 'aio-under-test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockingPoll, flush, startWorker, type TestWorker } from './support/runtime.js';

let worker: TestWorker;
beforeAll(async () => {
  worker = await startWorker(new URL('./workers/wake-worker.mjs', import.meta.url));
});
afterAll(async () => {
  await worker.terminate();
});

describe('cross-thread wake-ups', () => {
  it('a notify from the main thread wakes poll(true) in a worker; a notify is not progress', async () => {
    worker.post({ op: 'serve' });
    const { handle } = (await worker.next()) as { handle: never };
    const remote = AioContext.from(handle);
    expect(remote.alive).toBe(true);
    // Wait for the poll to announce its sleep: the slot's notify_me word (word 0 of the slot).
    const notifyMe = 16 + (handle as { slot: number }).slot * 24;
    const words = new Int32Array((handle as { table: SharedArrayBuffer }).table);
    await expect.poll(() => Atomics.load(words, notifyMe), { timeout: 20_000 }).not.toBe(0);
    remote.notify();
    const result = (await worker.next()) as { progress: boolean; waitedMs: number };
    expect(result.progress).toBe(false);
    // The worker closed its context: its handle now says so.
    await expect.poll(() => remote.alive).toBe(false);
    expect(() => remote.notify()).toThrow(expect.objectContaining({ code: 'ERR_AIO_CLOSED' }));
  });

  it('a notify from a worker wakes a blocking poll here', async () => {
    const ctx = new AioContext({ name: 'main-side' });
    flush(ctx);
    worker.post({ op: 'notify', handle: ctx.handle, delayMs: 30 });
    expect(await blockingPoll(ctx)).toBe(false);
    expect(await worker.next()).toEqual({ done: 'notify' });
    ctx.close();
  });

  it('a bottom half scheduled from a worker runs here, once', async () => {
    const ctx = new AioContext({ name: 'bh-target' });
    let n = 0;
    const bh = ctx.bh(() => n++, { name: 'remote-bh' });
    const handle = bh.handle;
    flush(ctx);
    worker.post({ op: 'schedule', handle, delayMs: 20 });
    while (n === 0) await blockingPoll(ctx);
    expect(n).toBe(1);
    expect(await worker.next()).toEqual({ done: 'schedule' });
    expect(ctx.poll(false)).toBe(false);
    // Local scheduling still works on a shared BH.
    bh.schedule();
    expect(ctx.poll(false)).toBe(true);
    expect(n).toBe(2);
    bh.delete();
    ctx.close();
  });

  it('an event notifier set from a worker wakes its context', async () => {
    const ctx = new AioContext({ name: 'notifier-target' });
    const e = new EventNotifier();
    let n = 0;
    ctx.setEventNotifier(e, (x) => {
      x.testAndClear();
      n++;
    });
    flush(ctx);
    worker.post({ op: 'set', handle: e.handle, delayMs: 20 });
    expect(await blockingPoll(ctx)).toBe(true);
    expect(n).toBe(1);
    expect(await worker.next()).toEqual({ done: 'set' });
    ctx.setEventNotifier(e, null);
    ctx.close();
  });

  it('many bottom halves scheduled from a worker all run exactly once', async () => {
    const ctx = new AioContext({ name: 'many' });
    const counts = new Array(64).fill(0);
    const bhs = counts.map((_, i) => ctx.bh(() => counts[i]++, { name: `bh${i}` }));
    for (const bh of bhs) {
      worker.post({ op: 'schedule', handle: bh.handle, delayMs: 0 });
    }
    // Poll while the worker schedules, so pushes race with the home thread's takes.
    let replies = 0;
    const collecting = (async () => {
      for (; replies < bhs.length; replies++) await worker.next();
    })();
    while (replies < bhs.length) {
      ctx.poll(false);
      await new Promise((r) => setTimeout(r, 0));
    }
    await collecting;
    flush(ctx);
    expect(counts.every((c) => c === 1)).toBe(true);
    for (const bh of bhs) bh.delete();
    ctx.close();
  });
});

/**
 * A pass that will not sleep reads its context's notify word only once another thread may
 * know the context (poll.ts, ContextBase._exposure): each way a thread learns it must
 * count, or work it sends is never taken by a context polled with poll(false) alone.
 */
describe('work from elsewhere reaches a context polled only with poll(false)', () => {
  /** Polls `ctx` without blocking, a host turn between passes, until `arrived()`. */
  async function pollUntil(ctx: AioContext, arrived: () => boolean, also?: AioContext): Promise<void> {
    const deadline = performance.now() + 20_000;
    while (!arrived()) {
      if (performance.now() > deadline) throw new Error(`the work for '${ctx.name}' was never taken`);
      ctx.poll(false);
      also?.poll(false);
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  it('a oneshot a worker sends through the context handle', async () => {
    const ctx = new AioContext({ name: 'oneshot-target' });
    let got: unknown = null;
    registerFunction('exposure.take', (x: unknown) => {
      got = x;
    });
    flush(ctx);
    worker.post({ op: 'oneshot', handle: ctx.handle, name: 'exposure.take', args: [42], delayMs: 0 });
    await pollUntil(ctx, () => got !== null);
    expect(got).toBe(42);
    expect(await worker.next()).toEqual({ done: 'oneshot' });
    unregisterFunction('exposure.take');
    ctx.close();
  });

  it('the reply to a call made from a bottom half of the context', async () => {
    const caller = new AioContext({ name: 'caller' });
    const callee = new AioContext({ name: 'callee' });
    registerFunction('exposure.double', (x: number) => 2 * x);
    let reply: unknown = null;
    const target = AioContext.from(callee.handle);
    caller.scheduleOneshot(() => {
      void target.call('exposure.double', 21).then((r) => {
        reply = r;
      });
    });
    await pollUntil(caller, () => reply !== null, callee);
    expect(reply).toBe(42);
    unregisterFunction('exposure.double');
    flush(caller);
    flush(callee);
    callee.close();
    caller.close();
  });

  it("a context's own notify between passes that do not sleep still stops the next sleep", async () => {
    const ctx = new AioContext({ name: 'own-notify' });
    flush(ctx);
    ctx.notify();
    expect(ctx.poll(false)).toBe(false);
    // Had the notify been dropped, this would sleep with nothing to wake it.
    expect(await blockingPoll(ctx)).toBe(false);
    ctx.close();
  });
});
