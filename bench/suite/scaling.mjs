// How the cost of a call grows: with the calls in flight, with the number of IOThreads,
// and under a steady open-loop load. These groups are series (a value at each level,
// plotted as a line), not ratios to a reference.
import { nextTurn, now } from '../lib/platform.mjs';

const lib = (f) => new URL(`../lib/${f}`, import.meta.url);

/** Calls in flight at each level of the `inflight` group. */
const LEVELS = [1, 10, 100, 1_000, 10_000, 100_000];
/** IOThreads of the `threads` group. */
const THREADS = [1, 2, 4];

const count = (n) => n.toLocaleString('en-US');

/**
 * IOThreads answering 'echo', created by the first entry of a group that needs them and
 * stopped after the last one is done with them.
 */
function sharedThreads(env, prefix, howMany) {
  const threads = [];
  let users = 0;
  return {
    threads,
    async acquire() {
      if (users++ > 0) return;
      const made = await Promise.all(Array.from({ length: howMany }, (_, i) => env.aio.IOThread.create({ name: `${prefix}-${i}`, module: lib('echo-module.mjs') })));
      threads.push(...made);
      await Promise.all(threads.map((t) => t.call('echo', 0)));
    },
    async release() {
      if (--users > 0) return;
      await Promise.all(threads.splice(0).map((t) => t.stop()));
    },
  };
}

/** `rounds` waves of `inflight` calls issued together on `threads` (round-robin), each awaited. */
async function waves(threads, rounds, inflight) {
  const k = threads.length;
  const ps = new Array(inflight);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < inflight; i++) ps[i] = threads[i % k].call('echo', i);
    await Promise.all(ps);
  }
  return rounds * inflight;
}

/**
 * The floor of the `inflight` group: `rounds` waves of `inflight` promises, pending
 * together, settled from a later turn of the event loop and awaited together, with no
 * thread and no library: what holding that many promises costs the runtime itself (heap,
 * GC), which any API that answers each call with a promise pays.
 */
async function promiseWaves(rounds, inflight) {
  const ps = new Array(inflight);
  const settle = new Array(inflight);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < inflight; i++) ps[i] = new Promise((resolve) => (settle[i] = resolve));
    await new Promise((turn) => nextTurn(turn));
    for (let i = 0; i < inflight; i++) settle[i](i);
    await Promise.all(ps);
  }
  settle.fill(undefined);
  return rounds * inflight;
}

export function inflightGroup(env) {
  const shared = sharedThreads(env, 'inflight', 1);
  return {
    id: 'inflight',
    title: 'Per-call time against the calls in flight (IOThread.call on 1 IOThread, issued together, awaited together)',
    metric: 'latency',
    opName: 'call',
    series: { x: 'calls in flight', logX: true },
    // The 100,000 level takes about a second a sample.
    maxSamples: 5,
    entries: [
      ...LEVELS.map((level) => ({
        name: `aio IOThread.call, ${count(level)} in flight`,
        kind: 'ours',
        x: level,
        line: 'aio IOThread.call',
        startup: false,
        // Up to 1,000 in flight, calibrated waves; above, one wave a sample.
        fixedOps: level >= 10_000 ? level : undefined,
        startOps: level,
        setup: () => shared.acquire(),
        run: (n) => waves(shared.threads, Math.ceil(n / level), level),
        teardown: () => shared.release(),
      })),
      ...LEVELS.map((level) => ({
        name: `promises alone, ${count(level)} pending`,
        kind: 'floor',
        x: level,
        line: 'floor: promises alone (made, settled from a later turn, awaited together)',
        startup: false,
        fixedOps: level >= 10_000 ? level : undefined,
        startOps: level,
        run: (n) => promiseWaves(Math.ceil(n / level), level),
      })),
    ],
  };
}

export function threadsGroup(env) {
  const shared = sharedThreads(env, 'threads', Math.max(...THREADS));
  return {
    id: 'threads',
    title: `Call throughput against the number of IOThreads (${count(env.inflight)} calls in flight, round-robin)`,
    metric: 'throughput',
    opName: 'call',
    series: { x: 'IOThreads' },
    maxSamples: 5,
    entries: THREADS.map((k) => ({
      name: `aio IOThread.call, ${k} IOThread${k > 1 ? 's' : ''}`,
      kind: 'ours',
      x: k,
      startup: false,
      fixedOps: env.inflight,
      setup: () => shared.acquire(),
      run: (n) => waves(shared.threads.slice(0, k), 1, n),
      teardown: () => shared.release(),
    })),
  };
}

/** Open-loop loads of the `load-latency` group, as fractions of the measured throughput. */
const LOADS = [
  { fraction: 1 / 2, label: 'half' },
  // A light load next to it: what the tail is when the thread is far from saturated.
  { fraction: 1 / 10, label: 'a tenth of' },
];

/**
 * p50 / p99 / max of `call()` under an open-loop load of half (and a tenth of) the
 * throughput measured on the same IOThread. The schedule is fixed in advance (call i is
 * due at i / rate); a loop that yields to the event loop on every turn issues every call
 * that has come due, so a late turn sends a burst rather than moving the schedule, and a
 * call's latency runs from the time it was due (a slow generator counts against the
 * figure, it does not hide it).
 */
export function loadLatencyGroup(env) {
  const shared = sharedThreads(env, 'load', 1);
  const windowS = env.quick ? 0.25 : 0.4;
  let measured = 0;
  const entries = LOADS.map(({ fraction, label }) => {
    let rate = 0;
    const entry = {
      name: `aio IOThread.call at ${label} its throughput`,
      kind: 'ours',
      outputs: ['p50', 'p99', 'max'],
      // Set-up measures the throughput: not a start-up time.
      startup: false,
      async setup() {
        await shared.acquire();
        const t = shared.threads[0];
        if (!measured) {
          // Closed loop: waves of the throughput group's size; the best of three.
          let best = Infinity;
          for (let i = 0; i < 3; i++) {
            const t0 = now();
            await waves([t], 1, env.inflight);
            best = Math.min(best, now() - t0);
          }
          measured = (env.inflight * 1000) / best;
        }
        rate = measured * fraction;
        entry.fixedOps = Math.round(rate * windowS);
        entry.note = `offered ${count(Math.round(rate))} calls/s for ${windowS * 1000} ms a sample, ${label} the ${count(Math.round(measured))} calls/s measured closed-loop (${count(env.inflight)} in flight) on the same IOThread`;
      },
      run: (n) => openLoop(shared.threads[0], rate, n),
      teardown: () => shared.release(),
    };
    return entry;
  });
  return {
    id: 'load-latency',
    title: 'Latency of IOThread.call under a steady open-loop load (1 IOThread)',
    metric: 'latency',
    opName: 'call',
    series: { x: 'percentile' },
    maxSamples: 5,
    entries,
  };
}

/** Issues `n` calls on `t` at `rate` calls/s (see loadLatencyGroup); resolves with the percentiles. */
function openLoop(t, rate, n) {
  return new Promise((resolve, reject) => {
    const latency = new Float64Array(n);
    const periodMs = 1000 / rate;
    let issued = 0;
    let done = 0;
    const t0 = now();
    const step = () => {
      const due = Math.min(n, Math.floor((now() - t0) / periodMs) + 1);
      while (issued < due) {
        const i = issued++;
        const dueAt = t0 + i * periodMs;
        t.call('echo', i).then(() => {
          latency[i] = now() - dueAt;
          if (++done === n) {
            latency.sort();
            const at = (q) => latency[Math.min(n - 1, Math.floor(q * n))] * 1e6;
            resolve({ ops: n, values: { p50: at(0.5), p99: at(0.99), max: latency[n - 1] * 1e6 } });
          }
        }, reject);
      }
      if (issued < n) nextTurn(step);
    };
    step();
  });
}
