// What an idle IOThread costs in memory, next to a bare worker of the same runtime, and
// what an idle AioContext costs. Each sample creates a batch, lets it settle, reads the
// process's memory, and releases the batch; the figure is the growth over the baseline
// read just before, divided by the batch size.
//
// Threads: process RSS (a worker's heap, stack and event loop are native memory of the
// process, which only RSS sees). Contexts: this thread's JS heap plus the external memory
// it holds (array buffers), after a full GC where the runtime allows one (platform.mjs,
// collectGarbage). Freed worker memory is not always returned to the system at once, so
// a batch may reuse pages its predecessor left behind; the rounds alternate the entries so
// that this hits the worker and the IOThread alike.
import { collectGarbage, isBrowser, memoryNow, spawnWorker } from '../lib/platform.mjs';

const lib = (f) => new URL(`../lib/${f}`, import.meta.url);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const BROWSER =
  'a page reads neither its workers’ memory nor, without a GC it can force, its own heap precisely (performance.memory is quantized; measureUserAgentSpecificMemory resolves at a later GC)';

/** Memory in use once pending work and finalizers have run: two GCs around a short pause. */
async function settled(key) {
  await collectGarbage();
  await sleep(50);
  await collectGarbage();
  return memoryNow()[key];
}

/** An entry measuring `key` growth per item: make(i) creates one, release(all) frees them. */
function perItem(name, kind, x, { key, batch, make, release }) {
  return {
    name,
    kind,
    x,
    skip: isBrowser ? BROWSER : undefined,
    startup: false,
    fixedOps: batch,
    async run(n) {
      const before = await settled(key);
      const items = await Promise.all(Array.from({ length: n }, (_, i) => make(i)));
      // Threads: let their start-up garbage go and their loops go idle.
      await sleep(100);
      const after = await settled(key);
      await release(items);
      return { ops: n, value: (after - before) / n };
    },
  };
}

export function memoryGroup(env) {
  const aio = env.aio;
  const threads = env.quick ? 4 : 6;
  const contexts = 256;
  return {
    id: 'memory',
    title: `Memory of an idle IOThread against a bare worker (RSS growth over ${threads} threads), and of an idle AioContext (heap growth over ${contexts} contexts)`,
    metric: 'memory',
    opName: 'thread or context',
    series: { x: 'what' },
    maxSamples: 5,
    entries: [
      perItem('bare worker of this runtime (idle)', 'floor', 'bare worker', {
        key: 'rss',
        batch: threads,
        make: async () => {
          const w = await spawnWorker(lib('idle-worker.mjs'));
          await w.next();
          return w;
        },
        release: (ws) => Promise.all(ws.map((w) => w.terminate())),
      }),
      perItem('worker that imports aio-core and idles', 'floor', 'worker + aio code', {
        key: 'rss',
        batch: threads,
        make: async () => {
          const w = await spawnWorker(lib('idle-aio-worker.mjs'));
          await w.next();
          return w;
        },
        release: (ws) => Promise.all(ws.map((w) => w.terminate())),
      }),
      perItem('aio IOThread (idle)', 'ours', 'IOThread', {
        key: 'rss',
        batch: threads,
        make: async (i) => {
          const t = await aio.IOThread.create({ name: `mem-${i}`, module: lib('echo-module.mjs') });
          await t.call('echo', 0);
          return t;
        },
        release: (ts) => Promise.all(ts.map((t) => t.stop())),
      }),
      perItem('aio AioContext (idle, main thread)', 'ours', 'AioContext', {
        key: 'heap',
        batch: contexts,
        make: (i) => new aio.AioContext({ name: `mem-ctx-${i}` }),
        release: (cs) => {
          for (const c of cs) c.close();
        },
      }),
    ],
  };
}
