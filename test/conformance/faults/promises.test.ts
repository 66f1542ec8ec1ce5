/**
 * Fault injection: promises work in every thread. A dedicated IOThread runs promise
 * reactions after the poll pass that queued them, and host tasks when a reaction waits on
 * one, with no async call pending while they run.
 */
import { IOThread } from 'aio-under-test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const moduleUrl = new URL('../workers/fault-module.mjs', import.meta.url);
let t: IOThread;

beforeAll(async () => {
  t = await IOThread.create({ module: moduleUrl });
});
afterAll(async () => {
  await t.stop();
});

// The flag is read with a fresh call each time: the thread is otherwise idle, asleep.
const flagBecomes = (value: string) => expect.poll(() => t.call('flag'), { timeout: 10_000 }).toBe(value);

describe('faults: promises in a dedicated IOThread', () => {
  it('a promise chain started by a bottom half completes', async () => {
    await t.call('thenFromBh');
    await flagBecomes('reaction ran');
  });

  it('a reaction waiting on a host timer completes', async () => {
    await t.call('hostTimerFromBh', 20);
    await flagBecomes('host timer ran');
  });

  it('a coroutine resumed through awaitPromise completes', async () => {
    await t.call('awaitInCoroutine');
    await flagBecomes('coroutine resumed: resolved');
  });

  it('threadPool.submit().then inside a registered function fires', async () => {
    await t.call('submitThen', 7);
    await flagBecomes('pool said 49');
  }, 30_000);
});
