/**
 * IOThread.create's `worker` option: the program constructs the thread's worker (so that
 * bundlers see `new Worker(new URL(...))` in its code) and the script runs the IOThread with
 * serveIOThread(). aio-browser offers it; the other hosts refuse it, naming the option. A
 * worker script that does not load fails create() naming its URL.
 */
import { IOThread } from 'aio-under-test';
import { describe, expect, it } from 'vitest';
import { runtime } from './support/runtime.js';

type Coded = Error & { code?: string };

describe('IOThread worker option', () => {
  it('rejects with options.module given too, naming the option', async () => {
    const err = (await IOThread.create({ worker: () => new Worker('./unused.js', { type: 'module' }), module: './unused.mjs' }).catch((e) => e)) as Coded;
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(err.message).toContain('options.module');
  });

  it('starts an IOThread whose script calls serveIOThread (aio-browser); elsewhere ERR_AIO_NO_HOST', async () => {
    const start = IOThread.create({
      name: 'made',
      worker: (name) => new Worker(new URL('./workers/made-worker-thread.mjs', import.meta.url), { type: 'module', name }),
    });
    if (runtime !== 'browser') {
      const err = (await start.catch((e) => e)) as Coded;
      expect(err.code).toBe('ERR_AIO_NO_HOST');
      expect(err.message).toContain('options.worker');
      return;
    }
    await using t = await start;
    expect(await t.call('add', 2, 40)).toBe(42);
  });

  it('fails create() naming the URL of a worker script that does not load', async () => {
    const err = (await IOThread.create({ name: 'missing', worker: (name) => new Worker('./no-such-thread.mjs', { type: 'module', name }) }).catch((e) => e)) as Coded;
    if (runtime !== 'browser') {
      expect(err.code).toBe('ERR_AIO_NO_HOST');
      return;
    }
    expect(err.code).toBe('ERR_AIO_THREAD_DIED');
    expect(err.message).toContain(new URL('./no-such-thread.mjs', location.href).href);
  });
});
