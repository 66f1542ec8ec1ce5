/**
 * CoMutex across threads, after QEMU's test-aio-multithread.c: /aio/multi/mutex/contended
 * (4 IOThreads) and /aio/multi/mutex/handoff (2), each running a coroutine that takes the
 * mutex in a loop; `counter == atomic_counter`. Plus async-function waiters across threads
 * and the rules of sharing a CoMutex.
 */
import { CoMutex, IOThread } from 'aio-under-test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const moduleUrl = new URL('./workers/comutex-module.mjs', import.meta.url);
let threads: IOThread[] = [];

beforeAll(async () => {
  threads = await Promise.all([0, 1, 2, 3].map((i) => IOThread.create({ name: `co-${i}`, module: moduleUrl })));
}, 60_000);
afterAll(async () => {
  await Promise.all(threads.map((t) => t.stop()));
});

async function hammer(fn: string, count: number, ms: number): Promise<void> {
  const m = new CoMutex();
  const words = new Int32Array(new SharedArrayBuffer(8));
  const counts = (await Promise.all(threads.slice(0, count).map((t) => t.call(fn, m.handle, words.buffer, ms)))) as number[];
  expect(counts.every((c) => c > 0)).toBe(true);
  expect(words[0]).toBe(words[1]);
  expect(words[1]).toBe(counts.reduce((a, b) => a + b, 0));
  expect(m.locked).toBe(false);
}

describe('CoMutex across threads', () => {
  it('/aio/multi/mutex/contended', () => hammer('coHammer', 4, 300));
  it('/aio/multi/mutex/handoff', () => hammer('coHammer', 2, 300));
  it('async-function waiters in 4 threads share the FIFO', () => hammer('asyncHammer', 4, 300));

  it('a lock taken here is handed to a waiter in another thread, never barged', async () => {
    const m = new CoMutex();
    const words = new Int32Array(new SharedArrayBuffer(12));
    await m.lock();
    const remote = threads[0]!.call('holdUntilTold', m.handle, words.buffer);
    // Wait for the waiter itself: the shared waiter ring's tail (word 3) passes its head (word 2).
    const ring = new Int32Array(m.handle.sab);
    await expect.poll(() => Atomics.load(ring, 3) - Atomics.load(ring, 2), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(Atomics.load(words, 1)).toBe(0); // waiting for us
    m.unlock();
    expect(m.tryLock()).toBe(false); // handed over, not free
    await expect.poll(() => Atomics.load(words, 1), { timeout: 20_000 }).toBe(1); // the waiter holds it
    expect(m.tryLock()).toBe(false);
    Atomics.store(words, 2, 1);
    Atomics.notify(words, 2);
    expect(await remote).toBe('released');
    expect(m.tryLock()).toBe(true);
    m.unlock();
  });

  it('sharing rules: a contended mutex cannot be shared; from() checks the handle', async () => {
    const m = new CoMutex();
    await m.lock();
    const waiting = m.lock();
    expect(() => m.handle).toThrow(expect.objectContaining({ code: 'ERR_AIO_BUSY' }));
    m.unlock();
    await waiting;
    m.unlock();
    expect(() => CoMutex.from({ kind: 'nope' } as never)).toThrow(expect.objectContaining({ code: 'ERR_AIO_BAD_HANDLE' }));
    expect(() => CoMutex.from(null as never)).toThrow(TypeError);
  });
});
