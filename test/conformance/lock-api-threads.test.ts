/**
 * The async-mutex style lock API across real threads (IOThreads): waitForUnlock of a lock
 * another thread holds, QEMU's counter test (`counter == atomic_counter`) through
 * runExclusive in async threads and lockGuard in blocking ones, weighted Semaphore
 * acquires that wait for units released by another thread, and a shared CoMutex's
 * waitForUnlock.
 */
import { CoMutex, IOThread, Mutex, RecMutex, Semaphore } from 'aio-under-test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const moduleUrl = new URL('./workers/lock-api-module.mjs', import.meta.url);
const MS = 200;
let dedicated: IOThread[] = [];
let integrated: IOThread[] = [];

beforeAll(async () => {
  dedicated = await Promise.all([0, 1].map((i) => IOThread.create({ name: `api-d${i}`, module: moduleUrl })));
  integrated = await Promise.all([0, 1, 2].map((i) => IOThread.create({ name: `api-i${i}`, module: moduleUrl, mode: 'integrated' })));
}, 60_000);

afterAll(async () => {
  await Promise.all([...dedicated, ...integrated].map((t) => t.stop()));
});

/** Resolves once words[i] is not 0 (waits for the event, never sleeps). */
async function until(words: Int32Array, i: number): Promise<void> {
  while (Atomics.load(words, i) === 0) {
    const w = Atomics.waitAsync(words, i, 0);
    if (w.async) await w.value;
  }
}

/** Whether `p` settles within a few host turns (for "still waiting" checks). */
async function settled(p: Promise<unknown>, ms = 30): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setTimeout(r, ms));
  return done;
}

type Kind = 'Mutex' | 'RecMutex' | 'CoMutex';
const makers: Record<Kind, () => Mutex | RecMutex | CoMutex> = {
  Mutex: () => new Mutex(),
  RecMutex: () => new RecMutex(),
  CoMutex: () => new CoMutex(),
};

describe('lock API across threads', () => {
  for (const kind of ['Mutex', 'RecMutex', 'CoMutex'] as const) {
    it(`${kind}: waitForUnlock here resolves when another thread's guard is disposed, taking nothing`, async () => {
      const m = makers[kind]();
      const words = new Int32Array(new SharedArrayBuffer(8));
      const remote = integrated[0]!.call('holdUntilTold', kind, m.handle, words.buffer);
      await until(words, 0);
      expect(m.isLocked()).toBe(true);
      const w = m.waitForUnlock();
      expect(await settled(w)).toBe(false);
      Atomics.store(words, 1, 1);
      Atomics.notify(words, 1);
      await w;
      expect(await remote).toBe('released');
      expect(m.isLocked()).toBe(false);
    });

    it(`${kind}: runExclusive in 3 async threads, counter == atomic_counter`, async () => {
      const m = makers[kind]();
      const words = new Int32Array(new SharedArrayBuffer(8));
      const counts = (await Promise.all(integrated.map((t) => t.call('exclusiveHammer', kind, m.handle, words.buffer, MS)))) as number[];
      expect(counts.every((c) => c > 0)).toBe(true);
      expect(words[0]).toBe(words[1]);
      expect(words[1]).toBe(counts.reduce((a, b) => a + b, 0));
      expect(m.isLocked()).toBe(false);
    });
  }

  for (const kind of ['Mutex', 'RecMutex'] as const) {
    it(`${kind}: lockGuard in 2 blocking threads, counter == atomic_counter`, async () => {
      const m = makers[kind]();
      const words = new Int32Array(new SharedArrayBuffer(8));
      const counts = (await Promise.all(dedicated.map((t) => t.call('guardHammer', kind, m.handle, words.buffer, MS)))) as number[];
      expect(counts.every((c) => c > 0)).toBe(true);
      expect(words[0]).toBe(words[1]);
      expect(words[1]).toBe(counts.reduce((a, b) => a + b, 0));
      expect(m.isLocked()).toBe(false);
    });
  }

  it('Semaphore: runExclusive(fn, 2) on 3 units in 3 async threads excludes (2 + 2 > 3), counter == atomic_counter', async () => {
    const s = new Semaphore(3);
    const words = new Int32Array(new SharedArrayBuffer(8));
    const counts = (await Promise.all(integrated.map((t) => t.call('exclusiveHammer', 'Semaphore', s.handle, words.buffer, MS, 2)))) as number[];
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(words[0]).toBe(words[1]);
    expect(words[1]).toBe(counts.reduce((a, b) => a + b, 0));
    expect(s.value()).toBe(3);
  });

  it('Semaphore: a weighted acquire in another thread waits until enough units are released here', async () => {
    const s = new Semaphore(0);
    const words = new Int32Array(new SharedArrayBuffer(8));
    const remote = integrated[1]!.call('acquire', s.handle, words.buffer, 3);
    await until(words, 0);
    s.release(1);
    s.post();
    expect(await settled(remote)).toBe(false);
    expect(s.value()).toBe(2);
    s.release(2);
    expect(await remote).toBe(1); // took 3 of the 4
    expect(s.value()).toBe(1);
  });

  it('Semaphore: waitForUnlock(2) in another thread resolves when 2 units are here, taking none', async () => {
    const s = new Semaphore(1);
    const words = new Int32Array(new SharedArrayBuffer(8));
    const remote = integrated[2]!.call('waitForUnlock', 'Semaphore', s.handle, words.buffer, 2);
    await until(words, 0);
    expect(await settled(remote)).toBe(false);
    s.release(1);
    expect(await remote).toBe(false); // not locked: units were there
    expect(s.value()).toBe(2);
  });

  it('shared CoMutex: a remote waitForUnlock resolves only after the queued locker here has had it', async () => {
    const m = new CoMutex();
    const words = new Int32Array(new SharedArrayBuffer(8));
    await m.lock();
    const handle = m.handle;
    const queued = m.lock(); // queued in the shared ring behind this hold
    const remote = integrated[0]!.call('waitForUnlock', 'CoMutex', handle, words.buffer);
    await until(words, 0);
    m.unlock(); // handed to `queued`
    await queued;
    expect(await settled(remote)).toBe(false);
    m.unlock();
    expect(await remote).toBe(false);
  });
});
