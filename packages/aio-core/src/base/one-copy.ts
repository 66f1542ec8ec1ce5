/**
 * One aio-core per thread. Contexts, registered functions, the host and thread ids are
 * module state, so a second copy of aio-core in a thread (two installed versions, or one
 * file imported by two URLs) would split them: a thread module's registerFunction would
 * fill a registry its IOThread's runner never reads, and calls would fail as if nothing
 * were registered. The package's entry module, and only it (sources imported one by one,
 * as the model checks do, are not a copy), claims its thread here; a second copy's entry
 * throws instead, so the import that brought it in fails and names both copies.
 *
 * The claim is a non-writable global keyed by a registered symbol, the one thing every
 * copy shares. The same URL evaluated again (a test runner re-running a module graph) is
 * the same file, not a second version, and passes.
 */
import { AioError } from './errors.js';

const CLAIM = Symbol.for('aio-core.module');

/**
 * Claims this thread for the aio-core whose entry module is at `url`, or throws
 * ERR_AIO_TWO_COPIES naming the copy that claimed it first. Entry module, at load.
 */
export function claimThread(url: string): void {
  const g = globalThis as { [CLAIM]?: string };
  const first = g[CLAIM];
  if (first === undefined) {
    Object.defineProperty(globalThis, CLAIM, { value: url });
    return;
  }
  if (first === url) return;
  throw new AioError(
    'ERR_AIO_TWO_COPIES',
    `two copies of aio-core in one thread: ${first} was loaded first, then ${url}. ` +
      'They would not share contexts, registered functions or the host. Import aio from one package ' +
      '(your adapter: aio-node, aio-bun, aio-deno or aio-browser) and keep one aio-core installed (npm ls aio-core).',
  );
}
