/**
 * Fault injection: every way a thread ends by itself is seen by its parent, with its
 * cause, on every runtime. Pending calls reject ERR_AIO_THREAD_DIED naming the cause; later
 * calls through the IOThread or any handle of its context fail at once with it; stop()
 * resolves; the context slot comes back. Creates that fail give their slot back too, and
 * create() can be abandoned or time out.
 */
import { AioContext, IOThread, threadEnded } from 'aio-under-test';
import { describe, expect, it } from 'vitest';
import { ways } from './ways.js';

const moduleUrl = new URL('../workers/fault-module.mjs', import.meta.url);

/** Contexts alive in the group of `table` (the InUse word of each of the 1024 slots). */
function liveSlots(table: SharedArrayBuffer): number {
  const words = new Int32Array(table);
  let n = 0;
  for (let slot = 0; slot < 1024; slot++) if (Atomics.load(words, 16 + slot * 24 + 3) !== 0) n++;
  return n;
}

describe('faults: a thread that ends by itself', () => {
  it('is seen dead with its cause; its calls, oneshots and handles fail at once; stop() resolves', async () => {
    for (const [how, cause] of ways) {
      const t = await IOThread.create({ name: `ends-${how}`, module: moduleUrl });
      const table = t.context.handle.table;
      const before = liveSlots(table);
      const pending = t.call('never');
      expect(await t.call('exitWith', how)).toBe('exiting');
      const died = performance.now();
      const err = await pending.then(
        () => null,
        (e: Error & { code?: string }) => e,
      );
      const seenAfter = performance.now() - died;
      expect(err, how).not.toBeNull();
      expect(err!.code, how).toBe('ERR_AIO_THREAD_DIED');
      expect(err!.message, how).toMatch(cause);
      // Loaded CI machines: the bound is loose; the note reports the measured times.
      expect(seenAfter, how).toBeLessThan(2000);
      expect(t.state).toBe('dead');
      expect(t.cause).toMatch(cause);
      await expect(t.call('add', 1, 2)).rejects.toMatchObject({ code: 'ERR_AIO_THREAD_DIED', message: expect.stringMatching(cause) });
      // Any handle of the dead context: the cause is in shared memory, for every thread.
      const other = AioContext.from(t.context.handle);
      expect(other.alive).toBe(false);
      await expect(other.call('add', 1, 2)).rejects.toMatchObject({ code: 'ERR_AIO_THREAD_DIED', message: expect.stringMatching(cause) });
      expect(() => other.scheduleOneshot('add', 1, 2)).toThrow(expect.objectContaining({ code: 'ERR_AIO_THREAD_DIED' }));
      expect(liveSlots(table)).toBe(before - 1);
      await t.stop();
      expect(t.state).toBe('dead');
    }
  }, 60_000);

  it("another thread's call into a context whose thread dies fails with the cause", async () => {
    const caller = await IOThread.create({ name: 'caller', module: moduleUrl });
    const victim = await IOThread.create({ name: 'victim', module: moduleUrl });
    // The caller's call runs in the victim (it counts it), then the victim dies.
    const outcome = caller.call('callInto', victim.context.handle, 'neverCounted');
    await expect.poll(() => victim.call('neverStarts'), { timeout: 20_000 }).toBe(1);
    expect(await victim.call('exitWith', 'throw')).toBe('exiting');
    expect(await outcome).toMatch(/^ERR_AIO_THREAD_DIED: call\('neverCounted'\) on 'victim'.*thrown from a microtask/s);
    expect(await caller.call('add', 1, 1)).toBe(2);
    await victim.stop();
    await caller.stop();
  }, 60_000);

  it("a sender that died holding a context's inbox lock does not block later senders", async () => {
    const t = await IOThread.create({ module: moduleUrl });
    const h = t.context.handle;
    const words = new Int32Array(h.table);
    const slot = 16 + h.slot * 24;
    // As a worker terminated in the middle of an append leaves it: the lock word (8)
    // held, its owner word (7) naming a thread that has ended.
    const ghost = 0x7ffffff0;
    threadEnded(ghost);
    Atomics.store(words, slot + 7, ghost);
    Atomics.store(words, slot + 8, 1);
    expect(await t.call('add', 2, 3)).toBe(5);
    expect(Atomics.load(words, slot + 8)).toBe(0);
    await t.stop();
  }, 60_000);

  it('a failed create gives its context slot back (setup throws, module missing)', async () => {
    const probe = await IOThread.create({ module: moduleUrl });
    const table = probe.context.handle.table;
    await probe.stop();
    const before = liveSlots(table);
    for (let round = 0; round < 10; round++) {
      const results = await Promise.allSettled([
        IOThread.create({ module: new URL('../workers/fault-setup-throws.mjs', import.meta.url) }),
        IOThread.create({ module: new URL('../workers/no-such-module.mjs', import.meta.url) }),
      ]);
      for (const r of results) expect(r.status).toBe('rejected');
    }
    await expect.poll(() => liveSlots(table), { timeout: 10_000 }).toBe(before);
    const t = await IOThread.create({ module: moduleUrl });
    expect(await t.call('add', 2, 3)).toBe(5);
    await t.stop();
  }, 60_000);

  it('create() is abandoned by its signal or its setup timeout, and the worker ends', async () => {
    const hangs = new URL('../workers/fault-setup-hangs.mjs', import.meta.url);
    const probe = await IOThread.create({ module: moduleUrl });
    const table = probe.context.handle.table;
    await probe.stop();
    const before = liveSlots(table);
    const timedOut = await IOThread.create({ module: hangs, setupTimeoutMs: 300 }).then(
      () => null,
      (e) => e,
    );
    expect(timedOut).toMatchObject({ code: 'ERR_AIO_TIMEOUT' });
    const controller = new AbortController();
    const aborted = IOThread.create({ module: hangs, signal: controller.signal });
    controller.abort(new Error('no longer needed'));
    await expect(aborted).rejects.toThrow('no longer needed');
    const early = new AbortController();
    early.abort();
    await expect(IOThread.create({ module: moduleUrl, signal: early.signal })).rejects.toBeDefined();
    await expect.poll(() => liveSlots(table), { timeout: 10_000 }).toBe(before);
    await expect(IOThread.create({ setupTimeoutMs: -1 })).rejects.toThrow(RangeError);
    await expect(IOThread.create({ keepAlive: 'yes' as never })).rejects.toThrow(TypeError);
  }, 60_000);
});
