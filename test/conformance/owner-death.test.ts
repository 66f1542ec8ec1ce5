/**
 * Robust locks: when the thread holding a Mutex or RecMutex dies or exits, the next locker
 * gets OwnerDiedError (ERR_AIO_OWNER_DIED) within 100 ms and then holds the lock, like a
 * robust pthread mutex; exactly one locker gets it, the others wait as usual.
 */
import { IOThread, Mutex, OwnerDiedError, RecMutex } from 'aio-under-test';
import { describe, expect, it } from 'vitest';
import { canBlock } from './support/runtime.js';

const moduleUrl = new URL('./workers/iothread-module.mjs', import.meta.url);

async function expectOwnerDied(lock: Mutex | RecMutex, started: number): Promise<void> {
  const err = await lock.lockAsync().then(
    () => null,
    (e) => e,
  );
  expect(err).toBeInstanceOf(OwnerDiedError);
  expect(err.code).toBe('ERR_AIO_OWNER_DIED');
  expect(performance.now() - started).toBeLessThan(250);
  // The caller holds it now: it can unlock, and the lock works again.
  lock.unlock();
  await lock.lockAsync();
  lock.unlock();
}

describe('owner death', () => {
  for (const [kind, make] of [
    ['Mutex', () => new Mutex()],
    ['RecMutex', () => new RecMutex()],
  ] as const) {
    it(`${kind}: a thread that crashes holding it hands it over with OwnerDiedError`, async () => {
      const t = await IOThread.create({ module: moduleUrl });
      const lock = make();
      expect(await t.call('holdAndCrash', kind, lock.handle)).toBe('holding');
      await expect.poll(() => t.state, { timeout: 5000 }).toBe('dead');
      const started = performance.now();
      await expectOwnerDied(lock, started);
      await t.stop();
    });

    it(`${kind}: a thread that exits holding it hands it over too (blocking locker where allowed)`, async () => {
      const t = await IOThread.create({ module: moduleUrl });
      const lock = make();
      expect(await t.call('holdAndStop', kind, lock.handle)).toBe('holding');
      await t.stop();
      const started = performance.now();
      if (canBlock) {
        expect(() => lock.lock()).toThrow(OwnerDiedError);
        expect(performance.now() - started).toBeLessThan(100);
        lock.unlock();
      } else {
        await expectOwnerDied(lock, started);
      }
    });
  }
});
