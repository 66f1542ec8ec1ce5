// Cross-thread round trip, main -> thread -> main, idle payload: aio's three ways of
// waiting against the raw floors and the libraries people use for the same job.
import { futexPing, spinPing, stopServer, waitAsyncPing } from '../lib/futex.mjs';
import { importByName, isBrowser, runtime, spawnWorker } from '../lib/platform.mjs';

const lib = (f) => new URL(`../lib/${f}`, import.meta.url);
const NODE_POOL_ONLY = 'a Node worker_threads pool: no browser build';
/** The main context's default spin for a reply (REPLY_POLL_MAX_NS_DEFAULT). */
const REPLY_SPIN = 32768;

/** A floor worker in `mode`, with a fresh ping-pong block. */
async function floorWorker(mode) {
  const sab = new SharedArrayBuffer(16);
  const w = new Int32Array(sab);
  const worker = await spawnWorker(lib('floor-worker.mjs'));
  await worker.ask({ mode, sab });
  return { w, worker };
}

async function stopFloor(f) {
  stopServer(f.w);
  await Promise.race([f.worker.next(), new Promise((r) => setTimeout(r, 1000))]);
  await f.worker.terminate();
}

/** aio: an IOThread answering a BH with a BH; main waits with poll(true) or pollAsync(). */
function aioEntry(env, name, { mode, pollMaxNs, wait }) {
  const aio = env.aio;
  let t, ctx, pong, ping;
  let got = 0;
  const blocking = wait === 'poll';
  return {
    name,
    kind: 'ours',
    blocking,
    skip: blocking && !env.canBlock ? 'this thread cannot block' : undefined,
    async setup() {
      t = await aio.IOThread.create({ name: `rt-${mode}-${pollMaxNs}`, module: lib('roundtrip-module.mjs'), mode, pollMaxNs });
      ctx = new aio.AioContext({ name: `rt-main-${mode}-${pollMaxNs}`, pollMaxNs });
      pong = ctx.bh(() => got++, { name: 'pong' });
      ping = aio.BottomHalf.from(await t.call('connect', pong.handle));
      await this.run(1);
    },
    run: blocking
      ? (n) => {
          for (let i = 0; i < n; i++) {
            const want = got + 1;
            ping.schedule();
            while (got < want) ctx.poll(true);
          }
        }
      : async (n) => {
          for (let i = 0; i < n; i++) {
            const want = got + 1;
            ping.schedule();
            while (got < want) await ctx.pollAsync();
          }
        },
    async teardown() {
      pong?.delete();
      ctx?.close();
      await t?.stop();
    },
  };
}

/** Floor: the main thread waits with Atomics.waitAsync; the worker answers in `mode`. */
function waitAsyncFloor(name, mode) {
  let f;
  return {
    name,
    kind: 'floor',
    async setup() {
      f = await floorWorker(mode);
      await waitAsyncPing(f.w, 1);
    },
    run: (n) => waitAsyncPing(f.w, n),
    teardown: () => stopFloor(f),
  };
}

/**
 * aio: `await IOThread.call()` one at a time. The reply lands in the main context, which
 * spins for it up to `replyPollMaxNs` before it sleeps in the host loop (0: no spin).
 * With `cpu`, a sample is the process's CPU time per call (all threads) instead.
 */
function callEntry(env, name, { replyPollMaxNs, cpu = false }) {
  const aio = env.aio;
  const main = aio.AioContext.main();
  let t;
  return {
    name,
    kind: 'ours',
    skip: cpu ? cpuSkip() : undefined,
    async setup() {
      t = await aio.IOThread.create({ name: `rt-call-${replyPollMaxNs}`, module: lib('roundtrip-module.mjs') });
      await t.call('echo', 0);
    },
    async run(n) {
      const saved = main.replyPollMaxNs;
      main.setReplyPollMaxNs(replyPollMaxNs);
      const c0 = cpu ? process.cpuUsage() : null;
      try {
        for (let i = 0; i < n; i++) await t.call('echo', i);
      } finally {
        main.setReplyPollMaxNs(saved);
      }
      return c0 ? cpuPerOp(c0, n) : n;
    },
    teardown: () => t?.stop(),
  };
}

/** Why CPU time cannot be measured here, if it cannot. */
function cpuSkip() {
  return typeof process === 'object' && typeof process.cpuUsage === 'function' ? undefined : 'no process.cpuUsage() in this runtime';
}

/** One sample of CPU time per operation, in ns, since `c0` (process.cpuUsage()). */
function cpuPerOp(c0, n) {
  const c = process.cpuUsage(c0);
  return { ops: n, value: ((c.user + c.system) * 1000) / n };
}

/** Pool libraries that could not start in this process, and why (not retried in later groups). */
const poolFailures = new Map();

/** A pool peer (piscina, tinypool, poolifier) with `threads` workers: echo tasks. */
export function poolPeer(lib_, threads) {
  const worker = {
    piscina: 'piscina-worker.mjs',
    tinypool: 'piscina-worker.mjs',
    poolifier: 'poolifier-worker.mjs',
  }[lib_];
  let pool;
  let submit;
  return {
    skip: () =>
      isBrowser ? NODE_POOL_ONLY : poolFailures.has(lib_) ? `failed to start earlier in this run: ${poolFailures.get(lib_)}` : undefined,
    setupTimeoutMs: 10_000,
    setupRetries: 1,
    onSetupFailed: (why) => poolFailures.set(lib_, why),
    async setup() {
      const url = lib(worker);
      if (lib_ === 'piscina') {
        const { Piscina } = await importByName('piscina');
        pool = new Piscina({ filename: url.href, minThreads: threads, maxThreads: threads, idleTimeout: 600_000 });
        submit = (v) => pool.run(v);
      } else if (lib_ === 'tinypool') {
        const { Tinypool } = await importByName('tinypool');
        pool = new Tinypool({ filename: url.href, minThreads: threads, maxThreads: threads, idleTimeout: 600_000 });
        submit = (v) => pool.run(v);
      } else {
        const { FixedThreadPool } = await importByName('poolifier');
        const { fileURLToPath } = await import('node:url');
        pool = new FixedThreadPool(threads, fileURLToPath(url), { errorHandler: () => {} });
        submit = (v) => pool.execute(v);
      }
      // Every worker answers once before timing starts.
      await Promise.all(Array.from({ length: threads * 4 }, (_, i) => submit(i)));
    },
    get submit() {
      return submit;
    },
    async teardown() {
      const p = pool;
      pool = undefined;
      await p?.destroy();
    },
  };
}

/** comlink proxies to `count` workers exposing echo(); `apis` is filled in by setup(). */
export function comlinkPeer(count) {
  const apis = [];
  const workers = [];
  let Comlink;
  return {
    apis,
    setupTimeoutMs: 15_000,
    async setup() {
      Comlink = await importByName('comlink');
      const url = lib('comlink-worker.mjs');
      for (let i = 0; i < count; i++) {
        let worker;
        if (runtime === 'node') {
          const { Worker } = await import('node:worker_threads');
          const { default: nodeEndpoint } = await import('comlink/dist/esm/node-adapter.mjs');
          worker = new Worker(url);
          apis.push(Comlink.wrap(nodeEndpoint(worker)));
        } else {
          worker = new Worker(url, { type: 'module' });
          apis.push(Comlink.wrap(worker));
        }
        workers.push(worker);
      }
      await Promise.all(apis.map((api) => api.echo(0)));
    },
    async teardown() {
      for (const api of apis.splice(0)) api[Comlink.releaseProxy]();
      await Promise.all(workers.splice(0).map((w) => w.terminate()));
    },
  };
}

export function roundtripGroup(env) {
  const aio = env.aio;
  const floors = {};
  const entries = [
    {
      name: 'spin (Atomics.load + pause, both sides)',
      kind: 'floor',
      blocking: true,
      async setup() {
        floors.spin = await floorWorker('spin');
        spinPing(floors.spin.w, 1);
      },
      // Capped in time: returns the round trips it managed.
      run: (n) => spinPing(floors.spin.w, n, env.targetMs * 5),
      teardown: () => stopFloor(floors.spin),
    },
    {
      name: 'Atomics.wait/notify ping-pong',
      kind: 'floor',
      blocking: true,
      skip: env.canBlock ? undefined : 'this thread cannot block',
      async setup() {
        floors.futex = await floorWorker('futex');
        futexPing(floors.futex.w, 1);
      },
      run: (n) => futexPing(floors.futex.w, n),
      teardown: () => stopFloor(floors.futex),
    },
    waitAsyncFloor('Atomics.waitAsync (main) ↔ wait (worker)', 'futex'),
    waitAsyncFloor('Atomics.waitAsync ↔ waitAsync (neither side blocks)', 'async'),
    aioEntry(env, 'aio dedicated, pollMaxNs 0 (main poll(true))', { mode: 'dedicated', pollMaxNs: 0, wait: 'poll' }),
    aioEntry(env, 'aio dedicated, adaptive polling 32768 ns (main poll(true))', { mode: 'dedicated', pollMaxNs: aio.IOTHREAD_POLL_MAX_NS_DEFAULT ?? 32768, wait: 'poll' }),
    aioEntry(env, "aio integrated (thread mode 'integrated', main pollAsync)", { mode: 'integrated', pollMaxNs: 0, wait: 'async' }),
    callEntry(env, `aio IOThread.call (await each call; default: the caller spins for its reply up to ${REPLY_SPIN} ns)`, { replyPollMaxNs: REPLY_SPIN }),
    callEntry(env, 'aio IOThread.call (await each call; replyPollMaxNs 0: the caller sleeps in the host loop)', { replyPollMaxNs: 0 }),
    (() => {
      let worker;
      return {
        name: 'MessagePort (postMessage echo)',
        kind: 'peer',
        ref: true,
        async setup() {
          worker = await spawnWorker(lib('floor-worker.mjs'));
          await worker.ask({ mode: 'echo' });
          await worker.ask(0);
        },
        run: (n) =>
          new Promise((resolve) => {
            let i = 0;
            worker.onMessage(() => {
              if (++i < n) worker.post(i);
              else {
                worker.onMessage(null);
                resolve();
              }
            });
            worker.post(0);
          }),
        teardown: () => worker?.terminate(),
      };
    })(),
  ];
  for (const lib_ of ['piscina', 'tinypool', 'poolifier']) {
    const p = poolPeer(lib_, 1);
    entries.push({
      name: `${lib_} (1 thread, await each task)`,
      kind: 'peer',
      ...p,
      async run(n) {
        const submit = p.submit;
        for (let i = 0; i < n; i++) await submit(i);
      },
    });
  }
  {
    const c = comlinkPeer(1);
    entries.push({
      name: 'comlink (await each call)',
      kind: 'peer',
      ...c,
      async run(n) {
        const api = c.apis[0];
        for (let i = 0; i < n; i++) await api.echo(i);
      },
    });
  }
  return {
    id: 'roundtrip',
    title: 'Cross-thread round trip (main → thread → main)',
    metric: 'latency',
    opName: 'round trip',
    entries,
  };
}

/**
 * CPU time per awaited call, of the whole process (the caller's spin and the thread's
 * polling both count), next to the round trips above: what the spin for a reply costs.
 */
export function callCpuGroup(env) {
  const entries = [
    callEntry(env, `aio IOThread.call (default: the caller spins for its reply up to ${REPLY_SPIN} ns)`, { replyPollMaxNs: REPLY_SPIN, cpu: true }),
    callEntry(env, 'aio IOThread.call (replyPollMaxNs 0: the caller sleeps in the host loop)', { replyPollMaxNs: 0, cpu: true }),
  ];
  const p = poolPeer('piscina', 1);
  entries.push({
    name: 'piscina (1 thread, await each task)',
    kind: 'peer',
    ref: true,
    ...p,
    skip: () => cpuSkip() ?? p.skip(),
    async run(n) {
      const submit = p.submit;
      const c0 = process.cpuUsage();
      for (let i = 0; i < n; i++) await submit(i);
      return cpuPerOp(c0, n);
    },
  });
  return {
    id: 'call-cpu',
    title: 'CPU time per awaited call (whole process: caller and thread)',
    metric: 'latency',
    opName: 'call (CPU)',
    entries,
  };
}
