// QEMU's /aio/multi/mutex tests, one IOThread's side: a coroutine in this thread's
// context loops lock; counter++ (plain); unlock; atomic_counter++ until `ms` passed.
import { AioContext, CoMutex, Coroutine, registerFunction } from 'aio-core';

export function setup() {
  registerFunction('coHammer', (handle, sab, ms) => {
    const m = CoMutex.from(handle);
    const words = new Int32Array(sab);
    const end = performance.now() + ms;
    const co = Coroutine.create(function* () {
      let n = 0;
      while (performance.now() < end) {
        yield* m.lock();
        words[0] = words[0] + 1;
        m.unlock();
        Atomics.add(words, 1, 1);
        n++;
      }
      return n;
    });
    AioContext.current().coEnter(co);
    return co.promise;
  });
  registerFunction('asyncHammer', async (handle, sab, ms) => {
    const m = CoMutex.from(handle);
    const words = new Int32Array(sab);
    const end = performance.now() + ms;
    let n = 0;
    while (performance.now() < end) {
      await m.lock();
      words[0] = words[0] + 1;
      m.unlock();
      Atomics.add(words, 1, 1);
      n++;
    }
    return n;
  });
}
