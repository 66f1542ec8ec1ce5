/**
 * QEMU's mutex counter tests across real threads (test-aio-multithread.c
 * /aio/multi/mutex/*): 4 IOThreads take the same lock in a loop for a while, incrementing
 * a plain counter inside and an atomic counter after; `counter == atomic_counter` proves
 * no update was lost. Every lock kind, blocking (dedicated threads) and async (integrated
 * threads, with lockAsync / waitAsync / acquireAsync).
 */
import { AioContext, IOThread, LockCnt, Mutex, RecMutex, Semaphore } from 'aio-under-test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const moduleUrl = new URL('./workers/stress-module.mjs', import.meta.url);
const THREADS = 4;
const MS = 250;
let dedicated: IOThread[] = [];
let integrated: IOThread[] = [];
let lockedCtx: AioContext;

beforeAll(async () => {
  dedicated = await Promise.all(Array.from({ length: THREADS }, (_, i) => IOThread.create({ name: `stress-d${i}`, module: moduleUrl, pollMaxNs: 0 })));
  integrated = await Promise.all(
    Array.from({ length: THREADS }, (_, i) => IOThread.create({ name: `stress-i${i}`, module: moduleUrl, mode: 'integrated', pollMaxNs: 0 })),
  );
  lockedCtx = new AioContext({ name: 'stress-target' });
}, 60_000);

afterAll(async () => {
  await Promise.all([...dedicated, ...integrated].map((t) => t.stop()));
  lockedCtx.close();
});

const kinds: [string, () => { handle: unknown }][] = [
  ['Mutex', () => new Mutex()],
  ['RecMutex', () => new RecMutex()],
  ['Semaphore', () => new Semaphore(1)],
  ['LockCnt', () => new LockCnt()],
  ['AioContext', () => lockedCtx],
];

describe('/aio/multi/mutex counter tests', () => {
  for (const [kind, make] of kinds) {
    it(`${kind}: counter == atomic_counter with ${THREADS} blocking threads`, async () => {
      const words = new Int32Array(new SharedArrayBuffer(8));
      const lock = make();
      const counts = (await Promise.all(dedicated.map((t) => t.call('hammer', kind, lock.handle, words.buffer, MS)))) as number[];
      const total = counts.reduce((a, b) => a + b, 0);
      expect(counts.every((c) => c > 0)).toBe(true);
      expect(words[0]).toBe(words[1]);
      expect(words[1]).toBe(total);
    });

    // QemuLockCnt has no async form (its waits are short by design), so it has no async run.
    if (kind === 'LockCnt') continue;
    it(`${kind}: counter == atomic_counter with ${THREADS} async threads`, async () => {
      const words = new Int32Array(new SharedArrayBuffer(8));
      const lock = make();
      const counts = (await Promise.all(integrated.map((t) => t.call('hammerAsync', kind, lock.handle, words.buffer, MS)))) as number[];
      expect(counts.every((c) => c > 0)).toBe(true);
      expect(words[0]).toBe(words[1]);
      expect(words[1]).toBe(counts.reduce((a, b) => a + b, 0));
    });
  }
});
