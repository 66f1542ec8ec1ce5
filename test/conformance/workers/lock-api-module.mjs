// One thread's side of lock-api-threads.test.ts: holding a lock until told, and
// QEMU's counter test (a plain counter inside the lock, an atomic one after) through
// runExclusive, lock guards and weighted semaphore acquires.
import { CoMutex, Mutex, RecMutex, Semaphore, registerFunction } from 'aio-core';

function open(kind, handle) {
  switch (kind) {
    case 'Mutex':
      return Mutex.from(handle);
    case 'RecMutex':
      return RecMutex.from(handle);
    case 'CoMutex':
      return CoMutex.from(handle);
    case 'Semaphore':
      return Semaphore.from(handle);
  }
  throw new Error(`unknown lock kind ${kind}`);
}

/** Resolves once words[i] is not 0 (without blocking the thread). */
async function until(words, i) {
  while (Atomics.load(words, i) === 0) {
    const w = Atomics.waitAsync(words, i, 0);
    if (w.async) await w.value;
  }
}

export function setup() {
  // Takes the lock (a guard), says so in word 0 (notified), holds it until word 1 is set.
  registerFunction('holdUntilTold', async (kind, handle, sab) => {
    const words = new Int32Array(sab);
    const lock = open(kind, handle);
    const g = await lock.lockGuardAsync();
    Atomics.store(words, 0, 1);
    Atomics.notify(words, 0);
    await until(words, 1);
    g[Symbol.dispose]();
    return 'released';
  });
  // For `ms` milliseconds: runExclusive (weight `n` for a Semaphore) around the plain increment.
  registerFunction('exclusiveHammer', async (kind, handle, sab, ms, n) => {
    const lock = open(kind, handle);
    const words = new Int32Array(sab);
    const end = performance.now() + ms;
    let count = 0;
    const inside = () => {
      words[0] = words[0] + 1;
    };
    while (performance.now() < end) {
      if (kind === 'Semaphore') await lock.runExclusive(inside, n);
      else await lock.runExclusive(inside);
      Atomics.add(words, 1, 1);
      count++;
    }
    return count;
  });
  // For `ms` milliseconds, blocking: a guard from lockGuard() around the plain increment.
  registerFunction('guardHammer', (kind, handle, sab, ms) => {
    const lock = open(kind, handle);
    const words = new Int32Array(sab);
    const end = performance.now() + ms;
    let count = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 64; i++) {
        const g = lock.lockGuard();
        try {
          words[0] = words[0] + 1;
        } finally {
          g[Symbol.dispose]();
        }
        Atomics.add(words, 1, 1);
        count++;
      }
    }
    return count;
  });
  // Weighted acquire of `n` units; says in word 0 that it asked, returns the value it left.
  registerFunction('acquire', async (handle, sab, n) => {
    const s = Semaphore.from(handle);
    const words = new Int32Array(sab);
    const p = s.acquire(n);
    Atomics.store(words, 0, 1);
    Atomics.notify(words, 0);
    await p;
    return s.value();
  });
  // waitForUnlock(n) (n for a Semaphore); says in word 0 that it asked.
  registerFunction('waitForUnlock', async (kind, handle, sab, n) => {
    const lock = open(kind, handle);
    const words = new Int32Array(sab);
    const p = kind === 'Semaphore' ? lock.waitForUnlock(n) : lock.waitForUnlock();
    Atomics.store(words, 0, 1);
    Atomics.notify(words, 0);
    await p;
    return lock.isLocked();
  });
}
