// The measuring method, shared by every group and runtime:
//   1. every entry's setup() runs first (threads are created and answer once before any
//      timing starts); its duration is kept apart as the entry's start-up time;
//   2. each entry warms up while the number of operations per sample is calibrated so
//      that one sample takes about `targetMs` (entries with a fixed size keep it);
//   3. samples are taken in rounds: every round runs one sample of every entry, in an
//      order rotated from round to round, so ours and the peers alternate in the same
//      process and drift hits them alike;
//   4. teardown().
// A sample is nanoseconds per operation, unless the entry measures something else itself
// (a latency percentile, bytes): then run() returns the value. The report gives the median
// with min and max.
import { now } from '../lib/platform.mjs';

/**
 * An entry: { name, kind: 'ours'|'peer'|'floor', ref?: true or a rank (the entry ratios
 * are taken against; rank 2 stands in where rank 1 did not run), floor?: true, thread?: where it runs, skip?: reason (or a function giving
 * one at run time), setup?(), setupTimeoutMs?, setupRetries?, run(n),
 * teardown?(), fixedOps?: n, startOps?: n, timeoutMs?, x?: its level in a series group,
 * outputs?: labels of the values it reports, note?: (setup may set it) }.
 * run(n) performs n operations, synchronously or returning a promise of: nothing, the
 * number of operations it managed, or { ops, value } (the sample itself, in the group's
 * unit) or { ops, values: { label: value } } (one sample of each of `outputs`: the entry
 * is reported as one result per label, named `<name>: <label>`).
 */

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}

class Timeout extends Error {}

function withTimeout(p, ms, what) {
  if (!p || typeof p.then !== 'function') return p;
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Timeout(`${what} did not finish within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Runs one sample; returns { ms, ops, values? } (see run() above for what it may return). */
async function timeOne(e, n) {
  const t0 = now();
  let done = e.run(n);
  if (done && typeof done.then === 'function') done = await withTimeout(done, e.timeoutMs ?? 60_000, `${e.name}: run(${n})`);
  const ms = now() - t0;
  if (typeof done === 'number' && done > 0) return { ms, ops: done };
  // An array is what a run(n) of Promise.all(...) resolves with: nothing to report.
  if (done && typeof done === 'object' && !Array.isArray(done)) return { ms, ops: done.ops ?? n, values: done.values ?? { '': done.value } };
  return { ms, ops: n };
}

/** The samples of one round: { label: value } ('' for an entry with one figure). */
function sampleOf(t) {
  return t.values ?? { '': (t.ms * 1e6) / t.ops };
}

function errorText(err) {
  return String(err?.message ?? err).split('\n')[0];
}

/**
 * Runs one group and returns its result record. `opts`: { samples, targetMs, warmMs,
 * log(line), include(entry) }.
 */
export async function runGroup(group, opts) {
  const { targetMs, warmMs, log } = opts;
  // Groups of long fixed-size samples may take fewer rounds (never under 5).
  const samples = Math.max(5, Math.min(opts.samples, group.maxSamples ?? Infinity));
  const t0 = now();
  const entries = group.entries.filter((e) => !opts.include || opts.include(e));
  const results = new Map();
  for (const e of entries) {
    results.set(e, {
      name: e.name,
      kind: e.kind,
      ref: e.ref === true ? 1 : e.ref || 0,
      floor: e.kind === 'floor',
      thread: e.thread ?? opts.thread ?? 'main',
      x: e.x,
      line: e.line,
      note: e.note,
    });
  }
  const active = [];
  log(`[${group.id}] ${group.title}: ${entries.length} entries`);
  // 1. Set up every entry (start-up measured here, apart from the steady state).
  for (const e of entries) {
    const r = results.get(e);
    const skip = typeof e.skip === 'function' ? e.skip() : e.skip;
    if (skip) {
      r.skipped = skip;
      log(`  skip ${e.name}: ${skip}`);
      continue;
    }
    // A peer whose start-up is flaky on a runtime gets `setupRetries` more tries.
    for (let attempt = 0; ; attempt++) {
      const s0 = now();
      try {
        await withTimeout(e.setup?.(), e.setupTimeoutMs ?? 30_000, `${e.name}: setup`);
        if (e.startup !== false && e.setup) r.startupMs = now() - s0;
        r.note = e.note;
        if (attempt > 0) r.note = [r.note, `set up on attempt ${attempt + 1}`].filter(Boolean).join('; ');
        active.push(e);
        if (opts.verbose) log(`  set up ${e.name} (${(now() - s0).toFixed(1)} ms)`);
        break;
      } catch (err) {
        try {
          await withTimeout(e.teardown?.(), 5000, `${e.name}: teardown`);
        } catch {}
        if (attempt < (e.setupRetries ?? 0)) {
          log(`  retry ${e.name}: ${errorText(err)}`);
          continue;
        }
        r.skipped = `setup failed${attempt ? ` ${attempt + 1} times` : ''}: ${errorText(err)}`;
        e.onSetupFailed?.(r.skipped);
        log(`  skip ${e.name}: ${r.skipped}`);
        break;
      }
    }
  }
  // 2. Warm up and calibrate.
  const ops = new Map();
  for (const e of [...active]) {
    const r = results.get(e);
    try {
      let n = e.fixedOps ?? e.startOps ?? 16;
      let spent = 0;
      let last = 0;
      for (let i = 0; ; i++) {
        const t = await timeOne(e, n);
        last = (t.ms * n) / t.ops;
        spent += t.ms;
        if (e.fixedOps) {
          if (spent >= warmMs || i >= 1) break;
          continue;
        }
        if ((last >= targetMs / 4 && spent >= warmMs) || i > 40) break;
        if (last < targetMs / 4) n = Math.min(Math.ceil((n * targetMs) / Math.max(last, 0.05)), n * 64, 5e8);
      }
      if (!e.fixedOps) n = Math.max(1, Math.round((n * targetMs) / Math.max(last, 0.01)));
      ops.set(e, n);
      r.ops = n;
      if (opts.verbose) log(`  warmed up ${e.name}: ${n} ops/sample`);
      r.warmupMs = spent;
    } catch (err) {
      r.skipped = `warm-up failed: ${errorText(err)}`;
      log(`  skip ${e.name}: ${r.skipped}`);
      active.splice(active.indexOf(e), 1);
    }
  }
  // 3. Rounds of alternating samples.
  for (const e of active) results.get(e).samples = Object.fromEntries((e.outputs ?? ['']).map((k) => [k, []]));
  for (let round = 0; round < samples; round++) {
    const order = active.map((_, i) => active[(i + round) % active.length]);
    for (const e of order) {
      const r = results.get(e);
      if (r.skipped) continue;
      try {
        const n = ops.get(e);
        const got = sampleOf(await timeOne(e, n));
        for (const [k, list] of Object.entries(r.samples)) list.push(got[k]);
      } catch (err) {
        r.skipped = `failed in round ${round + 1}: ${errorText(err)}`;
        log(`  drop ${e.name}: ${r.skipped}`);
      }
    }
    log(`  [${group.id}] round ${round + 1}/${samples} done`);
  }
  // 4. Tear down.
  for (const e of active) {
    try {
      await withTimeout(e.teardown?.(), 10_000, `${e.name}: teardown`);
    } catch (err) {
      results.get(e).teardownError = errorText(err);
    }
  }
  const out = [];
  for (const [e, r] of results) {
    const byLabel = r.samples ?? Object.fromEntries((e.outputs ?? ['']).map((k) => [k, []]));
    delete r.samples;
    for (const [label, samples] of Object.entries(byLabel)) {
      const one = label ? { ...r, name: `${r.name}: ${label}`, line: r.name, x: label } : r;
      if (samples.length) one.samples = samples;
      if (samples.length && !r.skipped) Object.assign(one, stats(samples));
      out.push(one);
    }
  }
  const fmt = group.metric === 'memory' ? fmtBytes : fmtNs;
  for (const r of out) {
    if (r.median !== undefined) log(`  ${r.name}: ${fmt(r.median)}/op [${fmt(r.min)}–${fmt(r.max)}]`);
  }
  return {
    id: group.id,
    title: group.title,
    metric: group.metric ?? 'latency',
    opName: group.opName ?? 'op',
    note: group.note,
    series: group.series,
    rounds: samples,
    entries: out,
    elapsedMs: now() - t0,
  };
}

function fmtNs(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(ns >= 1e5 ? 0 : ns >= 1e4 ? 1 : 2)} µs`;
  return `${ns.toFixed(ns >= 100 ? 0 : ns >= 10 ? 1 : 2)} ns`;
}

function fmtBytes(b) {
  if (Math.abs(b) >= 2 ** 20) return `${(b / 2 ** 20).toFixed(2)} MiB`;
  return `${(b / 1024).toFixed(1)} KiB`;
}
