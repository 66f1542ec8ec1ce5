/**
 * QEMU's tests/unit/test-thread-pool.c (entries 47-52) on the context thread pool:
 * completions arrive in the submitting context's poll, never before the first wait;
 * only requests no worker took can be cancelled. Sizes are scaled down from QEMU's
 * (fewer threads, shorter sleeps) so every runtime runs them in a few seconds.
 */
import { AioContext } from 'aio-under-test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blockingPoll, flush } from './support/runtime.js';

const poolModule = new URL('./workers/pool-module.mjs', import.meta.url);
let ctx: AioContext;

beforeEach(() => {
  ctx = new AioContext({ name: 'pool-test' });
  ctx.threadPool.setParams({ max: 4, modules: [poolModule] });
});
afterEach(async () => {
  await ctx.threadPool.shutdown();
  flush(ctx);
  ctx.close();
});

const counters = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

async function pollUntil(cond: () => boolean): Promise<void> {
  while (!cond()) await blockingPoll(ctx);
}

describe('test-thread-pool', () => {
  it('/thread-pool/submit-no-complete', async () => {
    const n = counters(1);
    // Never waited for, as in QEMU; the pool may shut down (afterEach) before the reply
    // is polled, and the request then fails, which this test does not look at.
    ctx.threadPool.submit('worker_cb', n.buffer, 0).catch(() => {});
    await pollUntil(() => Atomics.load(n, 0) !== 0);
    expect(Atomics.load(n, 0)).toBe(1);
    await pollUntil(() => ctx.threadPool.queued === 0);
  });

  it('/thread-pool/submit-aio', async () => {
    const n = counters(1);
    let active = 1;
    let ret: unknown = 'in progress';
    ctx.threadPool.submitAio('worker_cb', [n.buffer, 0], (err, value) => {
      ret = err ?? value;
      active--;
    });
    expect(ret).toBe('in progress'); // callbacks never run before the first wait
    await pollUntil(() => active === 0);
    expect(Atomics.load(n, 0)).toBe(1);
    expect(ret).toBe(0);
  });

  it('/thread-pool/submit-co', async () => {
    const n = counters(1);
    let active = 1;
    let ret: unknown = 'in progress';
    const task = (async () => {
      ret = await ctx.threadPool.submit('worker_cb', n.buffer, 0);
      expect(Atomics.load(n, 0)).toBe(1);
      active--;
    })();
    expect(active).toBe(1);
    expect(ret).toBe('in progress');
    await pollUntil(() => active === 0);
    await task;
    expect(ret).toBe(0);
  });

  it('/thread-pool/submit-many', async () => {
    const count = 100;
    const n = counters(count);
    let active = count;
    const rets: unknown[] = [];
    for (let i = 0; i < count; i++) {
      ctx.threadPool.submitAio('worker_cb', [n.buffer, i], (err, value) => {
        rets[i] = err ?? value;
        active--;
      });
    }
    await pollUntil(() => active === 0);
    expect(Array.from(n)).toEqual(new Array(count).fill(1));
    expect(rets).toEqual(new Array(count).fill(0));
  });

  for (const sync of [true, false]) {
    it(sync ? '/thread-pool/cancel' : '/thread-pool/cancel-async', async () => {
      const count = 24;
      const n = counters(count);
      let active = count;
      const rets: unknown[] = new Array(count).fill('in progress');
      const reqs = [];
      for (let i = 0; i < count; i++) {
        reqs.push(
          ctx.threadPool.submitAio('long_cb', [n.buffer, i, 150], (err, value) => {
            rets[i] = err ? (err as Error & { code?: string }).code : value;
            active--;
          }),
        );
      }
      expect(active).toBe(count);
      // Let the pool start its workers and take the first requests.
      await pollUntil(() => Array.from(n).some((v) => v !== 0));
      let cancelled = 0;
      for (let i = 0; i < count; i++) {
        if (reqs[i]!.cancel()) {
          cancelled++;
          if (sync) await pollUntil(() => rets[i] !== 'in progress');
        }
      }
      expect(cancelled).toBeGreaterThan(0);
      expect(cancelled).toBeLessThan(count);
      await pollUntil(() => active === 0);
      for (let i = 0; i < count; i++) {
        const v = Atomics.load(n, i);
        if (v === 3) expect(rets[i]).toBe(0);
        else {
          expect(v).toBe(0);
          expect(rets[i]).toBe('ERR_AIO_CANCELLED');
        }
      }
    });
  }

  it('a long queue: every request runs exactly once or is cancelled', async () => {
    // Thousands queued at once (the queue must not turn quadratic), every third one
    // cancelled while queued; at max workers each worker also holds the next request, so
    // those few are taken and cannot be cancelled.
    ctx.threadPool.setParams({ max: 2 });
    const count = 3000;
    const n = counters(count);
    const rets: unknown[] = new Array(count).fill('in progress');
    let active = count;
    const reqs = Array.from({ length: count }, (_, i) =>
      ctx.threadPool.submitAio('worker_cb', [n.buffer, i], (err, value) => {
        rets[i] = err ? (err as Error & { code?: string }).code : value;
        active--;
      }),
    );
    let cancelled = 0;
    for (let i = 0; i < count; i += 3) if (reqs[i]!.cancel()) cancelled++;
    expect(cancelled).toBeGreaterThan(count / 3 - 10);
    expect(ctx.threadPool.queued).toBeLessThanOrEqual(count - cancelled);
    await pollUntil(() => active === 0);
    expect(ctx.threadPool.queued).toBe(0);
    let ran = 0;
    for (let i = 0; i < count; i++) {
      if (rets[i] === 'ERR_AIO_CANCELLED') expect(Atomics.load(n, i)).toBe(0);
      else {
        expect(rets[i]).toBe(0);
        expect(Atomics.load(n, i)).toBe(1);
        ran++;
      }
    }
    expect(ran + cancelled).toBe(count);
  });

  it('setParams rejects bad values and leaves the pool unchanged', () => {
    expect(() => ctx.threadPool.setParams({ min: 5, max: 2 })).toThrow(/"p.min"/);
    expect(() => ctx.threadPool.setParams({ max: 0 })).toThrow(/"p.max"/);
    expect(() => ctx.threadPool.submitAio('x', 'args' as never, () => {})).toThrow(/"args"/);
    expect(ctx.threadPool.threads).toBe(0);
  });
});
