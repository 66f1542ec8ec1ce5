/**
 * IOThreads on every runtime: create with a module and setup(ctx), calls through shared
 * memory (and through the thread's port for values JSON cannot carry), errors with the
 * remote message and stack, both wait modes, stop and join, failure while loading, a crash
 * rejecting pending calls, and QEMU's /aio/multi/lifecycle.
 */
import { AioContext, IOThread, registerFunction } from 'aio-under-test';
import { describe, expect, it } from 'vitest';

const moduleUrl = new URL('./workers/iothread-module.mjs', import.meta.url);

describe('IOThread', () => {
  it('/aio/multi/lifecycle: creates and joins 5 IOThreads', async () => {
    const threads = await Promise.all([0, 1, 2, 3, 4].map((i) => IOThread.create({ name: `io${i}` })));
    expect(threads.map((t) => t.context.alive)).toEqual([true, true, true, true, true]);
    await Promise.all(threads.map((t) => t.stop()));
    expect(threads.map((t) => t.state)).toEqual(['stopped', 'stopped', 'stopped', 'stopped', 'stopped']);
    expect(threads.map((t) => t.context.alive)).toEqual([false, false, false, false, false]);
  });

  for (const mode of ['dedicated', 'integrated'] as const) {
    it(`calls run in the thread's context and return results (${mode})`, async () => {
      await using t = await IOThread.create({ name: `calls-${mode}`, module: moduleUrl, mode });
      expect(await t.call('add', 2, 40)).toBe(42);
      expect(await t.call('echo', { a: [1, 'two', null], b: true })).toEqual({ a: [1, 'two', null], b: true });
      expect(await t.call('nothing')).toBeUndefined();
      expect(await t.call('where')).toEqual({ current: `calls-${mode}`, isSetupCtx: true });
      expect(await t.call('later', 7, 1)).toEqual({ v: 7, ms: 1 });
      expect(await t.call('timerIn', 20)).toBeGreaterThanOrEqual(19);
      const many = await Promise.all(Array.from({ length: 500 }, (_, i) => t.call('add', i, 1)));
      expect(many).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    });
  }

  it('strings of every width cross the ring unchanged: ASCII, Latin-1, BMP, astral, lone surrogates', async () => {
    // Records are written byte per unit while ASCII, and through TextEncoder from the first
    // unit that is not; a lone surrogate is not valid UTF-16 and JSON escapes it.
    await using t = await IOThread.create({ module: moduleUrl });
    const texts = ['plain ascii', 'héllo wörld', 'ascii first, then ✓', '😀 astral', `${'x'.repeat(1000)}ü`, '\ud800 lone', ''];
    for (const text of texts) expect(await t.call('echo', text)).toBe(text);
    expect(await Promise.all(texts.map((text) => t.call('echo', { text })))).toEqual(texts.map((text) => ({ text })));
  });

  it('replies of numbers, booleans, null and undefined arrive exactly, JSON-free numbers included', async () => {
    // Such replies take the ring's binary form: NaN, -0 and the infinities, which JSON
    // cannot carry, arrive unchanged, also through a context reached by its handle (no port).
    await using t = await IOThread.create({ module: moduleUrl });
    const values = [0, -0, 1.5, -7, 2 ** 53 + 2, Number.MIN_VALUE, Number.MAX_VALUE, Number.NaN, Infinity, -Infinity, true, false, null, undefined];
    for (const v of values) expect(Object.is(await t.call('echo', v), v)).toBe(true);
    const remote = AioContext.from(t.context.handle);
    expect(Object.is(await remote.call('div', 0, -1), -0)).toBe(true);
    expect(Number.isNaN(await remote.call('div', 0, 0))).toBe(true);
    expect(await remote.call('div', -1, 0)).toBe(-Infinity);
    expect(await remote.call('nothing')).toBeUndefined();
  });

  it('call arguments arrive exactly in either form: numbers of every kind, undefined, ASCII and other strings', async () => {
    // Numbers, booleans, null, undefined and ASCII strings take the ring's binary form
    // (undefined stays undefined, NaN and -0 stay themselves); other strings take JSON.
    await using t = await IOThread.create({ module: moduleUrl });
    const remote = AioContext.from(t.context.handle); // no port: the ring carries everything here
    const args = [0, -0, Number.NaN, -Infinity, 2 ** 53, undefined, null, true, false, '', 'ascii', 'x'.repeat(5000)];
    const want = ['number:0', '-0', 'number:NaN', 'number:-Infinity', `number:${2 ** 53}`, 'undefined:undefined', 'object:null', 'boolean:true', 'boolean:false', 's:', 's:ascii', `s:${'x'.repeat(5000)}`];
    expect(await remote.call('describe', ...args)).toEqual(want);
    expect(await remote.call('describe', 'héllo', 1)).toEqual(['s:héllo', 'number:1']);
    // Names alternate: each call runs its own function (the reader reuses a repeated name).
    for (let i = 0; i < 20; i++) expect(await remote.call(i % 2 ? 'add' : 'div', 6, 3)).toBe(i % 2 ? 9 : 2);
  });

  it('20,000 calls in flight: the overflow waits in order and every call gets its own answer', async () => {
    // Far more than the inbox ring holds: most records wait in this thread's outbox (and
    // the replies in the thread's), which must keep their order through its compaction.
    await using t = await IOThread.create({ module: moduleUrl });
    const count = 20_000;
    const answers = await Promise.all(Array.from({ length: count }, (_, i) => t.call('echo', i)));
    expect(answers.every((v, i) => v === i)).toBe(true);
    const order: number[] = [];
    await Promise.all(Array.from({ length: count }, (_, i) => t.call('hit').then(() => order.push(i))));
    expect(order.every((v, i) => v === i)).toBe(true);
  });

  it('a call made while another call is being written (from a getter of its argument) gets its own answer', async () => {
    // The record of a call is written from one array per thread; a call made from user code
    // that writing runs (a getter JSON reads) must not overwrite the call being written.
    await using t = await IOThread.create({ module: moduleUrl });
    let inner: Promise<unknown> | undefined;
    const arg = {
      get v() {
        inner ??= t.call('echo', 'inner');
        return 5;
      },
    };
    expect(await t.call('echo', arg)).toEqual({ v: 5 });
    expect(inner).toBeDefined();
    expect(await inner).toBe('inner');
  });

  it('a dedicated thread with an unfinished async call keeps answering promptly', async () => {
    // While an async function is unfinished the loop yields to its host every pass. That
    // yield must not be a clamped timer (browsers make nested setTimeout(0) wait 4 ms):
    // 100 calls take a few ms normally and over 400 ms with the clamp. Measured against
    // the same 100 calls with nothing pending, in this run, so a loaded machine slows both.
    await using t = await IOThread.create({ module: moduleUrl });
    const hundredCalls = async () => {
      const start = performance.now();
      for (let i = 0; i < 100; i++) expect(await t.call('add', i, 1)).toBe(i + 1);
      return performance.now() - start;
    };
    const idle = await hundredCalls();
    const held = t.call('hold');
    const busy = await hundredCalls();
    expect(busy).toBeLessThan(Math.max(350, idle * 5));
    await t.call('unhold');
    expect(await held).toBe('released');
  });

  it('an integrated thread keeps its host loop working: host timers fire', async () => {
    await using t = await IOThread.create({ module: moduleUrl, mode: 'integrated' });
    expect(await t.call('hostTimer', 10)).toBe('host timer fired');
  });

  it('errors come back with their message, code and remote stack', async () => {
    await using t = await IOThread.create({ module: moduleUrl });
    const err = (await t.call('fail', 'it broke').catch((e) => e)) as Error & { code?: string; remoteStack?: string };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('it broke');
    expect(err.code).toBe('E_TEST');
    expect(err.remoteStack).toContain('iothread-module');
    const missing = (await t.call('no-such-function').catch((e) => e)) as Error & { code?: string };
    expect(missing.code).toBe('ERR_AIO_NO_FUNCTION');
  });

  it('values JSON cannot carry travel through the thread port', async () => {
    await using t = await IOThread.create({ module: moduleUrl });
    const bytes = (await t.call('bytes', 4)) as Uint8Array;
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.length).toBe(4);
    const big = 'x'.repeat(100_000);
    expect(await t.call('echo', big)).toBe(big);
    expect(await t.call('echo', new Map([[1, 2]]))).toEqual(new Map([[1, 2]]));
  });

  it('scheduleOneshot runs a registered function once, in order', async () => {
    await using t = await IOThread.create({ module: moduleUrl });
    for (let i = 0; i < 10; i++) t.context.scheduleOneshot('hit');
    expect(await t.call('hits')).toBe(10);
  });

  it('the thread can call back into this thread through a context handle', async () => {
    registerFunction('mainSquare', (x: number) => x * x);
    await using t = await IOThread.create({ module: moduleUrl });
    expect(await t.call('callBack', AioContext.main().handle, 'mainSquare', 12)).toBe(144);
  });

  it('create() rejects with the message of a module that fails to load', async () => {
    const err = (await IOThread.create({ module: new URL('./workers/iothread-bad-module.mjs', import.meta.url) }).catch((e) => e)) as Error;
    expect(err.message).toContain('setup refused: bad configuration');
    const missing = (await IOThread.create({ module: new URL('./workers/does-not-exist.mjs', import.meta.url) }).catch((e) => e)) as Error;
    expect(missing).toBeInstanceOf(Error);
  });

  it('a crash rejects pending calls with ERR_AIO_THREAD_DIED and stop() still resolves', async () => {
    const t = await IOThread.create({ module: moduleUrl });
    expect(await t.call('crash')).toBe('crashing');
    const pending = t.call('add', 1, 1).catch((e) => e);
    await expect.poll(() => t.state, { timeout: 5000 }).toBe('dead');
    const err = (await pending) as Error & { code?: string };
    if (err instanceof Error) expect(err.code).toBe('ERR_AIO_THREAD_DIED');
    const after = (await t.call('add', 1, 1).catch((e) => e)) as Error & { code?: string };
    expect(after.code).toBe('ERR_AIO_THREAD_DIED');
    await t.stop();
  });

  it('stop() joins, is idempotent, and calls after it reject', async () => {
    const t = await IOThread.create({ module: moduleUrl });
    const a = t.stop();
    const b = t.stop();
    expect(a).toBe(b);
    await a;
    const err = (await t.call('add', 1, 2).catch((e) => e)) as Error & { code?: string };
    expect(err.code).toBe('ERR_AIO_THREAD_STOPPED');
  });

  it('a call the thread answered just before it stopped resolves: the reply in the inbox counts', async () => {
    const t = await IOThread.create({ module: moduleUrl });
    const caller = new AioContext({ name: 'caller-not-polled' });
    try {
      let answer: Promise<unknown> | undefined;
      // Called from `caller`, which nobody polls until the thread has stopped: the
      // thread runs the call before the stop (its inbox is in order) and its reply
      // waits in caller's inbox.
      const bh = caller.bh(() => {
        answer = t.call('add', 2, 3).then(
          (v) => v,
          (e: { code?: string }) => e.code,
        );
      });
      bh.schedule();
      caller.poll(false);
      bh.delete();
      await t.stop();
      while (caller.poll(false));
      expect(await answer).toBe(5);
    } finally {
      caller.close();
    }
  });

  it('stop() rejects naming bottom halves the thread leaked', async () => {
    const t = await IOThread.create({ module: moduleUrl });
    await t.call('leak');
    const err = (await t.stop().catch((e) => e)) as Error;
    expect(err.message).toContain('leaked-by-test');
  });

  it('stats() reports calls, run and wait times, and utilization', async () => {
    await using t = await IOThread.create({ module: moduleUrl });
    for (let i = 0; i < 50; i++) await t.call('add', i, i);
    await t.call('timerIn', 5);
    const s = t.stats();
    expect(s.calls).toBe(51);
    expect(s.runTime.count).toBe(51);
    expect(s.runTime.max).toBeGreaterThanOrEqual(4_000_000); // the 5 ms timer call
    expect(s.waitTime.count).toBe(51);
    expect(s.waitTime.p50).toBeGreaterThan(0);
    expect(s.utilization).toBeGreaterThanOrEqual(0);
    expect(s.utilization).toBeLessThanOrEqual(1);
  });

  it('stats() wait times lie within what the caller saw, each burst measured from its own take', async () => {
    await using t = await IOThread.create({ module: moduleUrl });
    const burst = async (): Promise<number> => {
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 2000 }, (_, i) => t.call('add', i, 1)));
      return (performance.now() - t0) * 1e6;
    };
    const total = () => t.stats().waitTime.mean * t.stats().waitTime.count;
    const first = await burst();
    const afterFirst = total();
    // A gap: the second burst's waits must end at their own takes (a wait that ended at an
    // earlier take would come out negative, recorded as 0).
    await new Promise((r) => setTimeout(r, 20));
    const second = await burst();
    const s = t.stats();
    expect(s.waitTime.count).toBe(4000);
    expect(s.waitTime.max).toBeLessThanOrEqual(Math.max(first, second));
    expect(total() - afterFirst).toBeGreaterThan(0);
    expect(s.waitTime.p50).toBeGreaterThan(0);
  });

  it('bad options are rejected before any thread starts', async () => {
    await expect(IOThread.create({ mode: 'fast' as never })).rejects.toThrow(RangeError);
    await expect(IOThread.create({ pollMaxNs: -1 })).rejects.toThrow(/options.pollMaxNs/);
    await expect(IOThread.create({ module: 42 as never })).rejects.toThrow(/options.module/);
  });
});
