// Functions for the thread-pool conformance tests (QEMU's test-thread-pool.c worker_cb
// and long_cb), working on counters in shared memory.
import { registerFunction } from 'aio-core';

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

export function setup() {
  registerFunction('worker_cb', (sab, i) => {
    Atomics.add(new Int32Array(sab), i, 1);
    return 0;
  });
  registerFunction('long_cb', (sab, i, ms) => {
    const n = new Int32Array(sab);
    if (Atomics.compareExchange(n, i, 0, 1) !== 0) return -1;
    sleep(ms);
    Atomics.or(n, i, 2);
    return 0;
  });
}
