/**
 * Fault injection: a bad request fails that request, never the thread. A oneshot naming
 * no registered function, or a function throwing any value at all, leaves the thread
 * serving. Exactly-once outcomes: with 20,000 calls in flight, stop() runs every call
 * sent before it and delivers every reply; no call that ran is reported as not run.
 */
import { type AioError, AioContext, IOThread } from 'aio-under-test';
import { describe, expect, it } from 'vitest';

const moduleUrl = new URL('../workers/fault-module.mjs', import.meta.url);

describe('faults: bad requests', () => {
  it('a failed oneshot leaves the thread serving; its error reaches the sending context', async () => {
    const t = await IOThread.create({ module: moduleUrl });
    const here = AioContext.current();
    const faults: AioError[] = [];
    here.setErrorHandler((e) => faults.push(e));
    try {
      t.context.scheduleOneshot('typo');
      t.context.scheduleOneshot('throwValue', 'null-prototype');
      expect(await t.call('add', 1, 2)).toBe(3);
      await expect.poll(() => faults.length, { timeout: 10_000 }).toBe(2);
      expect(faults[0]!.code).toBe('ERR_AIO_REQUEST_FAILED');
      expect(faults[0]!.message).toMatch(/'typo'.*no function 'typo' is registered/);
      expect(faults[1]!.message).toMatch(/no prototype/);
      expect(t.state).toBe('running');
    } finally {
      here.setErrorHandler(null);
    }
    await t.stop();
  });

  it('a function throwing any value, or returning a thenable whose then throws, rejects its call only', async () => {
    const t = await IOThread.create({ module: moduleUrl });
    for (const kind of ['null-prototype', 'getter', 'code-getter', 'symbol', 'undefined', 'proxy', 'then-throws', 'then-getter-throws']) {
      const err = await t.call('throwValue', kind).then(
        () => null,
        (e) => e,
      );
      expect(err, kind).toBeInstanceOf(Error);
      expect(typeof err.message, kind).toBe('string');
    }
    expect(await t.call('add', 2, 2)).toBe(4);
    expect(t.state).toBe('running');
    await t.stop();
  });
});

describe('faults: exactly-once outcomes', () => {
  it('stop() with 20,000 calls in flight: every call that ran resolves, the others reject without running', async () => {
    const t = await IOThread.create({ module: moduleUrl });
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const calls = Array.from({ length: 20_000 }, () => t.call('count', counter.buffer));
    const stopped = t.stop();
    const outcomes = await Promise.allSettled(calls);
    await stopped;
    const resolved = outcomes.filter((o) => o.status === 'fulfilled').length;
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'ERR_AIO_THREAD_STOPPED' });
    // Every function run has its resolved call: none ran without its caller knowing.
    expect(resolved).toBe(Atomics.load(counter, 0));
    // Calls sent before stop() all run.
    expect(resolved).toBe(20_000);
  }, 60_000);
});
