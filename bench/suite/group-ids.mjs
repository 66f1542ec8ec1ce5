// The groups of the suite, in the order a pass runs them. bench/run.mjs runs each in a
// fresh process; suite.mjs checks that its groups are exactly these.
export const GROUP_IDS = [
  'roundtrip',
  'call-cpu',
  'throughput',
  'bh',
  'timer-arm',
  'timer-fire',
  'mutex-uncontended',
  'mutex-contended',
  'lockcnt',
  'event',
  'comutex-uncontended',
  'comutex-8',
  'co-lifecycle',
  'co-yield',
  'inflight',
  'threads',
  'load-latency',
  'memory',
];
