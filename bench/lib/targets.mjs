// The targets the project's issues set for the benchmarks, checked against the figures of
// one run: each compares two entries of the same group on the same runtime, so both were
// measured side by side. Nothing here is a figure; every verdict is computed.
//
// A target holds when speed(ours) / speed(other) >= `atLeast` (speed = 1 / median time),
// or > `above` where the target says "below" / "faster than".

/**
 * [text, group id, ours (entry name prefix), other (entry name prefix), { atLeast | above,
 * floor }]. `floor`: [what, entry name prefix (, second prefix)], the entry (or the pair,
 * compared as ours and other are) of the same group that measures the least the target's
 * semantics need, reported beside a target that is missed (floorOf).
 */
const TARGETS = [
  ['adaptive polling below the raw futex ping-pong', 'roundtrip', 'aio dedicated, adaptive polling', 'Atomics.wait/notify ping-pong', { above: 1 }],
  ['polling off at most 1.3x the raw futex ping-pong', 'roundtrip', 'aio dedicated, pollMaxNs 0', 'Atomics.wait/notify ping-pong', { atLeast: 1 / 1.3 }],
  ['integrated at most 1.3x the raw waitAsync ping-pong', 'roundtrip', 'aio integrated', 'Atomics.waitAsync ↔ waitAsync', { atLeast: 1 / 1.3 }],
  ['call() with default settings at least 3x faster than a piscina task round trip', 'roundtrip', 'aio IOThread.call (await each call; default', 'piscina (1 thread', { atLeast: 3 }],
  ['call() with the caller spinning for its reply at least 8x faster than piscina', 'roundtrip', 'aio IOThread.call (await each call; default', 'piscina (1 thread', { atLeast: 8, floor: ['the polled BH round trip', 'aio dedicated, adaptive polling'] }],
  ['call() with the caller spinning at most 2x the polled BH round trip', 'roundtrip', 'aio IOThread.call (await each call; default', 'aio dedicated, adaptive polling', { atLeast: 0.5 }],
  ['call throughput at least 10x piscina', 'throughput', 'aio IOThread.call', 'piscina', { atLeast: 10 }],
  ['call throughput at least 5x poolifier', 'throughput', 'aio IOThread.call', 'poolifier', { atLeast: 5 }],
  ['bottom halves at least 0.5x queueMicrotask', 'bh', 'aio BH', 'queueMicrotask chain', { atLeast: 0.5 }],
  ['timer arm + cancel at least 3x setTimeout + clearTimeout', 'timer-arm', 'aio timer', 'setTimeout + clearTimeout', { atLeast: 3 }],
  ['Mutex at least 0.9x the inline futex lock, uncontended', 'mutex-uncontended', 'aio Mutex', 'inline futex lock (CAS', { atLeast: 0.9, floor: ['the inline lock naming its holder', 'inline futex lock naming its holder'] }],
  ['Mutex at least 10x multithreading, uncontended', 'mutex-uncontended', 'aio Mutex', 'multithreading Mutex', { atLeast: 10 }],
  ['Mutex at least 0.8x the inline futex lock, 2 threads', 'mutex-contended', 'aio Mutex', 'inline futex lock', { atLeast: 0.8 }],
  ['Mutex at least 10x multithreading, 2 threads', 'mutex-contended', 'aio Mutex', 'multithreading Mutex', { atLeast: 10 }],
  ['CoMutex at least 2x @esfx/async-mutex, uncontended', 'comutex-uncontended', 'aio CoMutex from async functions', '@esfx/async-mutex', { atLeast: 2 }],
  ['CoMutex at least 10x async-mutex, uncontended', 'comutex-uncontended', 'aio CoMutex from async functions', 'async-mutex Mutex (', { atLeast: 10 }],
  ['CoMutex at least 2x @esfx/async-mutex, 8 contenders', 'comutex-8', 'aio CoMutex from async functions', '@esfx/async-mutex', { atLeast: 2 }],
  ['CoMutex in 8 coroutines at most 1.5x the bare generator hand-off', 'comutex-8', 'aio CoMutex, 8 coroutines (yield once inside; the holder', 'bare generator hand-off', { atLeast: 1 / 1.5, floor: ['generators waiting with yield* lock() behind a minimal coroutine layer', 'bare generators with yield* lock() behind'] }],
  ['awaited CoMutex, 8 contenders, at least 0.9x the bare promise hand-off', 'comutex-8', 'aio CoMutex from async functions', 'bare promise hand-off (a FIFO', { atLeast: 0.9, floor: ['the promise hand-off whose promises carry an iterator', 'bare promise hand-off whose promises carry'] }],
  // Series and memory: "speed" is 1 / the figure (time per call, bytes per thread).
  ['per-call time at 100,000 in flight at most 1.5x that at 1,000', 'inflight', 'aio IOThread.call, 100,000 in flight', 'aio IOThread.call, 1,000 in flight', { atLeast: 1 / 1.5, floor: ['the same ratio for promises alone', 'promises alone, 100,000', 'promises alone, 1,000'] }],
  ['memory of an idle IOThread at most 1.2x a bare worker', 'memory', 'aio IOThread (idle)', 'bare worker', { atLeast: 1 / 1.2, floor: ['a worker that imports aio-core', 'worker that imports aio-core'] }],
];

/**
 * A missed target's floor on `rt`: [what, entry] gives the speed of ours (median `a`) ÷ the
 * speed of that entry; [what, entry, other entry] gives the target's own ratio computed on
 * the two floor entries instead (how the floor itself fares by the same measure).
 */
function floorOf(group, [what, first, second], rt, a) {
  const f = find(group, first)?.perRuntime[rt]?.median;
  if (!f) return null;
  if (second === undefined) return { what, ratio: f / a };
  const g = find(group, second)?.perRuntime[rt]?.median;
  return g ? { what, ratio: g / f } : null;
}

function find(group, prefix) {
  for (const e of group.entries.values()) if (e.name.startsWith(prefix)) return e;
  return null;
}

/**
 * Verdicts for every target on every runtime that ran both entries:
 * [{ text, runtime, ratio, holds, floor: null | { what, ratio } }] (floor: for a missed
 * target that names one, the speed of ours ÷ the speed of that floor). `groups` is report.collate()'s result.
 */
export function checkTargets(groups, runtimes) {
  const out = [];
  for (const [text, id, oursName, otherName, want] of TARGETS) {
    const g = groups.get(id);
    const ours = g && find(g, oursName);
    const other = g && find(g, otherName);
    for (const rt of runtimes) {
      const a = ours?.perRuntime[rt]?.median;
      const b = other?.perRuntime[rt]?.median;
      if (!a || !b) continue;
      const ratio = b / a;
      const holds = want.above !== undefined ? ratio > want.above : ratio >= want.atLeast;
      const floor = holds || !want.floor ? null : floorOf(g, want.floor, rt, a);
      out.push({ text, runtime: rt, ratio, holds, floor });
    }
  }
  return out;
}
