/**
 * Fault injection: a thread asleep in a blocking poll (QEMU's style: wait in aio_poll until
 * the answer is there) never turns its host event loop. It can still start a pool worker
 * and an IOThread (browsers start nested workers only through a turning loop, so the
 * window starts them for it), and it still sees a thread it started end, with the cause
 * (no exit event reaches it: the thread records its own end in shared memory).
 * The blocking thread here is an IOThread whose registered function blocks.
 */
import { IOThread } from 'aio-under-test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ways } from './ways.js';

const moduleUrl = new URL('../workers/fault-module.mjs', import.meta.url);
let parent: IOThread;

beforeAll(async () => {
  parent = await IOThread.create({ name: 'blocking-parent', module: moduleUrl });
});
afterAll(async () => {
  await parent.stop();
});

describe('faults: a parent asleep in poll(true)', () => {
  it('starts a pool worker and gets its result', async () => {
    expect(await parent.call('poolWhileBlocking', 7)).toBe('pool said 49');
  });

  it('starts an IOThread and calls it', async () => {
    expect(await parent.call('iothreadWhileBlocking', 8)).toBe('thread said 64');
  });

  it('sees a thread it started end by itself, with the cause', async () => {
    for (const [how, cause] of ways) {
      const outcome = (await parent.call('deathWhileBlocking', how)) as string;
      expect(outcome, how).toMatch(/^ERR_AIO_THREAD_DIED: /);
      expect(outcome, how).toMatch(cause);
    }
    // The parent goes on serving.
    expect(await parent.call('add', 1, 1)).toBe(2);
  });
});
