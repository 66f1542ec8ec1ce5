// The whole suite, runtime-neutral: which groups exist, the settings of a full and a
// quick pass, and the loop that runs the groups in this thread.
import { runGroup } from './harness.mjs';
import { adapterName, canBlock, importByName, runtime } from '../lib/platform.mjs';
import { callCpuGroup, roundtripGroup } from './roundtrip.mjs';
import { throughputGroup } from './throughput.mjs';
import { bhGroup, timerArmGroup, timerFireGroup } from './bh-timers.mjs';
import { eventGroup, lockCntGroup, mutexContendedGroup, mutexUncontendedGroup } from './locks.mjs';
import { coMutexGroup, coroutinePerfGroups } from './coroutines.mjs';
import { inflightGroup, loadLatencyGroup, threadsGroup } from './scaling.mjs';
import { memoryGroup } from './memory.mjs';
import { GROUP_IDS } from './group-ids.mjs';

const SETTINGS = {
  full: { samples: 7, targetMs: 100, warmMs: 150, inflight: 20_000, pendingTimers: 100_000 },
  quick: { samples: 5, targetMs: 25, warmMs: 30, inflight: 5_000, pendingTimers: 100_000 },
};

function buildGroups(env) {
  return [
    roundtripGroup(env),
    callCpuGroup(env),
    throughputGroup(env),
    bhGroup(env),
    timerArmGroup(env),
    timerFireGroup(env),
    mutexUncontendedGroup(env),
    mutexContendedGroup(env),
    lockCntGroup(env),
    eventGroup(env),
    coMutexGroup(env, 1),
    coMutexGroup(env, 8),
    ...coroutinePerfGroups(env),
    inflightGroup(env),
    threadsGroup(env),
    loadLatencyGroup(env),
    memoryGroup(env),
  ];
}

/**
 * Runs the suite in this thread. `opts`: { quick, only (group ids), log, blockingOnly
 * (browser worker pass: only entries marked blocking), skipBlocking (browser page pass),
 * thread (label), onGroup(result) }.
 */
export async function runSuite(opts) {
  const settings = opts.quick ? SETTINGS.quick : SETTINGS.full;
  const aio = await importByName(adapterName);
  const env = { aio, runtime, canBlock, quick: !!opts.quick, ...settings };
  const all = buildGroups(env);
  if (all.map((g) => g.id).join() !== GROUP_IDS.join()) throw new Error(`bench: group-ids.mjs lists ${GROUP_IDS.join(', ')}; the suite has ${all.map((g) => g.id).join(', ')}`);
  const groups = all.filter((g) => !opts.only || opts.only.includes(g.id));
  const include = (e) => {
    if (opts.entry && !opts.entry.test(e.name)) return false;
    if (opts.blockingOnly) return !!e.blocking;
    if (opts.skipBlocking) return !e.blocking;
    return true;
  };
  const results = [];
  for (const g of groups) {
    if (!g.entries.some(include)) continue;
    const r = await runGroup(g, { ...settings, log: opts.log, include, thread: opts.thread, verbose: opts.verbose });
    results.push(r);
    await opts.onGroup?.(r, results);
  }
  return { settings, results };
}
