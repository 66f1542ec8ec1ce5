/**
 * Two copies of aio-core in one thread fail loudly, naming both copies' module URLs
 * (rather than calls failing later with ERR_AIO_NO_FUNCTION from a registry nobody
 * filled). The same build imported by a second URL (a query string makes it another
 * module) stands in for a second installed version. On node, bun and deno the second
 * copy comes in with an IOThread's module, natively imported (the test runner's own
 * module loader treats the query as the same module); in a browser the page imports it.
 */
import { AioContext, IOThread } from 'aio-under-test';
import { expect, it } from 'vitest';
import { runtime } from '../support/runtime.js';

const first = new URL('../../../packages/aio-core/dist/index.js', import.meta.url).href;

it('a second copy of aio-core fails at import, naming both, and the first goes on', async () => {
  const err =
    runtime === 'browser'
      ? await import(/* @vite-ignore */ `${first}?second-copy`).then(
          () => null,
          (e: unknown) => e,
        )
      : await IOThread.create({ name: 'two-copies', module: new URL('../workers/second-copy-module.mjs', import.meta.url) }).then(
          async (thread) => {
            await thread.stop();
            return null;
          },
          (e: unknown) => e,
        );
  expect(err).toMatchObject({ code: 'ERR_AIO_TWO_COPIES' });
  expect((err as Error).message).toContain('?second-copy');
  if (runtime !== 'browser') expect((err as Error).message).toContain(`${first} was loaded first, then ${first}?second-copy`);
  const ctx = new AioContext({ name: 'after-second-copy' });
  let ran = false;
  const bh = ctx.bh(() => void (ran = true));
  bh.schedule();
  ctx.poll(false);
  expect(ran).toBe(true);
  bh.delete();
  ctx.close();
});
