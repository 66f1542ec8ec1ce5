/**
 * The browser host. A window's main thread may not block (Atomics.wait throws there);
 * dedicated workers may. Without cross-origin isolation there is no SharedArrayBuffer,
 * and `crossOriginIsolationProblem()` says which header is missing.
 *
 * A nested worker starts only while its parent turns its event loop, so workers start
 * their IOThreads through the window that started them (web-worker-relay.ts in aio-core):
 * a worker asleep in a blocking poll can still start a pool or an IOThread.
 *
 * IOThreads start from module URLs (the `module` option: import maps, dev servers) through
 * a generated entry, or in a worker the program constructs itself (the `worker` option:
 * bundled pages; its script calls serveIOThread()).
 */
import { type Host, createHost, probeCanBlock, relayedSpawn, serveSpawns, spawnWebWorker, spawnerPort, webWorkerParent } from 'aio-core';

const canBlock = probeCanBlock();
// Not written as `new URL('./iothread-worker.js', import.meta.url)`: bundlers take that for
// an asset and copy (or inline as a data: URL) this file alone, without the modules it
// imports, or fail on it. In a bundled page it is missing, and the `worker` option is the way.
const here = import.meta.url;
const entry = new URL('./iothread-worker.js', here);

/**
 * Starts an IOThread worker. Its modules are imported statically by a small generated
 * entry, so no dynamic import() runs inside the worker (bundlers and dev servers rewrite
 * those for the page, where their helpers exist, not for workers).
 */
function spawnThread(workerEntry: URL, modules: string[]): ReturnType<typeof spawnWebWorker> {
  const imports = modules.map((m, i) => `import * as m${i} from ${JSON.stringify(m)};`).join('');
  const source = `import { start } from ${JSON.stringify(workerEntry.href)};${imports}start([${modules.map((_, i) => `m${i}`).join(',')}]);`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const script =
    `the IOThread entry importing ${[workerEntry.href, ...modules].join(' and ')} ` +
    "(a bundled page starts IOThreads with IOThread.create's `worker` option: see aio-browser's README)";
  try {
    return spawnWebWorker(new URL(url), script);
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

/** A worker's IOThreads start in the window that started the worker, where there is one. */
function startThread(workerEntry: URL, modules: string[]): ReturnType<typeof spawnWebWorker> {
  const port = spawnerPort();
  return port ? relayedSpawn(port, workerEntry, modules) : spawnThread(workerEntry, modules);
}

/** The host aio-browser installs in every thread that imports it. */
export const browserHost: Host = createHost({
  runtime: 'browser',
  canBlock: () => canBlock,
  spawnThread: startThread,
  // The program's factory cannot be sent to a window: a worker starts these itself.
  spawnMadeWorker: (make) => spawnWebWorker(make),
  // Only a window's loop turns for sure (it cannot block): it serves its workers' starts.
  workerStarted: (worker, ended) => {
    if (!canBlock) serveSpawns(worker, spawnThread, ended);
  },
  parentChannel: () => webWorkerParent(),
  iothreadEntry: entry,
});

/**
 * Null when this page or worker can use shared memory; otherwise a sentence naming the
 * headers the page must be served with. Any thread.
 */
export function crossOriginIsolationProblem(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (typeof SharedArrayBuffer !== 'undefined' && g.crossOriginIsolated !== false) return null;
  return (
    'This page is not cross-origin isolated, so SharedArrayBuffer is unavailable. Serve it with ' +
    '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" ' +
    '(and "Cross-Origin-Resource-Policy: same-origin" on its scripts).'
  );
}
