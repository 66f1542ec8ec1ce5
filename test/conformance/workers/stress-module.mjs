// QEMU's mutex counter test (test-aio-multithread.c), one thread's side: for `ms`
// milliseconds take the lock, increment a plain (non-atomic) counter, release, then
// increment an atomic counter. With a correct lock the two counters end equal.
import { AioContext, LockCnt, Mutex, RecMutex, Semaphore, registerFunction } from 'aio-core';

function locker(kind, handle) {
  switch (kind) {
    case 'Mutex': {
      const m = Mutex.from(handle);
      return { lock: () => m.lock(), unlock: () => m.unlock(), lockAsync: () => m.lockAsync() };
    }
    case 'RecMutex': {
      const m = RecMutex.from(handle);
      return {
        lock: () => {
          m.lock();
          m.lock();
        },
        unlock: () => {
          m.unlock();
          m.unlock();
        },
        lockAsync: async () => {
          await m.lockAsync();
          m.lock();
        },
      };
    }
    case 'Semaphore': {
      const s = Semaphore.from(handle);
      return { lock: () => s.wait(), unlock: () => s.post(), lockAsync: () => s.waitAsync() };
    }
    case 'LockCnt': {
      const l = LockCnt.from(handle);
      return { lock: () => l.lock(), unlock: () => l.unlock(), lockAsync: null };
    }
    case 'AioContext': {
      const c = AioContext.from(handle);
      return { lock: () => c.acquire(), unlock: () => c.release(), lockAsync: () => c.acquireAsync() };
    }
  }
  throw new Error(`unknown lock kind ${kind}`);
}

export function setup() {
  registerFunction('hammer', (kind, handle, sab, ms) => {
    const l = locker(kind, handle);
    const words = new Int32Array(sab);
    const end = performance.now() + ms;
    let n = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 64; i++) {
        l.lock();
        words[0] = words[0] + 1;
        l.unlock();
        Atomics.add(words, 1, 1);
        n++;
      }
    }
    return n;
  });
  registerFunction('hammerAsync', async (kind, handle, sab, ms) => {
    const l = locker(kind, handle);
    const words = new Int32Array(sab);
    const end = performance.now() + ms;
    let n = 0;
    while (performance.now() < end) {
      await l.lockAsync();
      words[0] = words[0] + 1;
      l.unlock();
      Atomics.add(words, 1, 1);
      n++;
    }
    return n;
  });
}
