// Call throughput: `inflight` trivial calls issued at once on 2 threads, awaited together.
import { comlinkPeer, poolPeer } from './roundtrip.mjs';

const lib = (f) => new URL(`../lib/${f}`, import.meta.url);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function allOf(n, submit) {
  const ps = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = submit(i);
  await Promise.all(ps);
}

export function throughputGroup(env) {
  const aio = env.aio;
  const inflight = env.inflight;
  const entries = [];
  {
    let threads = [];
    entries.push({
      name: 'aio IOThread.call, 2 IOThreads round-robin',
      kind: 'ours',
      fixedOps: inflight,
      async setup() {
        threads = await Promise.all([0, 1].map((i) => aio.IOThread.create({ name: `tp-${i}`, module: lib('echo-module.mjs') })));
        await Promise.all(threads.map((t) => t.call('echo', 0)));
      },
      run: (n) => allOf(n, (i) => threads[i & 1].call('echo', i)),
      teardown: () => Promise.all(threads.map((t) => t.stop())),
    });
  }
  {
    let pool;
    entries.push({
      name: 'aio thread pool (ctx.threadPool, 2 workers)',
      kind: 'ours',
      fixedOps: inflight,
      async setup() {
        pool = aio.AioContext.main().threadPool;
        pool.setParams({ min: 2, max: 2, modules: [lib('echo-module.mjs').href] });
        for (let i = 0; pool.threads < 2; i++) {
          if (i > 3000) throw new Error('thread pool workers did not start');
          await sleep(5);
        }
        await Promise.all([0, 1, 2, 3].map((i) => pool.submit('echo', i)));
      },
      run: (n) => allOf(n, (i) => pool.submit('echo', i)),
      teardown: () => pool?.shutdown(),
    });
  }
  for (const lib_ of ['piscina', 'tinypool', 'poolifier']) {
    const p = poolPeer(lib_, 2);
    entries.push({
      name: `${lib_} (2 threads)`,
      kind: 'peer',
      ref: lib_ === 'piscina' ? 1 : undefined,
      fixedOps: inflight,
      ...p,
      run: (n) => allOf(n, p.submit),
    });
  }
  {
    const c = comlinkPeer(2);
    entries.push({
      name: 'comlink (2 workers round-robin)',
      kind: 'peer',
      // The reference where piscina cannot run (browsers).
      ref: 2,
      fixedOps: inflight,
      ...c,
      run: (n) => allOf(n, (i) => c.apis[i & 1].echo(i)),
    });
  }
  return {
    id: 'throughput',
    title: `Call throughput, ${inflight.toLocaleString('en-US')} calls in flight on 2 threads`,
    metric: 'throughput',
    opName: 'call',
    // Each sample is 20,000 calls (up to 2 s for the slowest pool): 5 rounds.
    maxSamples: 5,
    entries,
  };
}
