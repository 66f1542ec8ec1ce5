// Loaded into the IOThreads of the call-throughput benchmark and into the aio thread
// pool's workers: one registered function that returns its argument.
import { registerFunction } from 'aio-core';

export function setup() {
  registerFunction('echo', (v) => v);
}
