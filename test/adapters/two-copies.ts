/**
 * Two copies of aio-core in one thread fail loudly: an IOThread whose module imports a
 * second copy does not start, and the error names both copies' module URLs (rather than
 * calls failing later with ERR_AIO_NO_FUNCTION from a registry nobody filled). Shared by
 * the node, bun and deno adapter tests, each run with its own adapter's IOThread.
 */
import type { IOThread as IOThreadClass } from 'aio-node';
import { expect } from 'vitest';

export async function expectSecondCopyRejected(IOThread: typeof IOThreadClass): Promise<void> {
  const first = new URL('../../packages/aio-core/dist/index.js', import.meta.url).href;
  const module = new URL('./second-copy-module.mjs', import.meta.url);
  const err = await IOThread.create({ name: 'two-copies', module }).then(
    async (thread) => {
      await thread.stop();
      return null;
    },
    (e: { code?: string; message?: string }) => e,
  );
  expect(err?.code).toBe('ERR_AIO_TWO_COPIES');
  expect(err?.message).toContain(`${first} was loaded first, then ${first}?second-copy`);
}
