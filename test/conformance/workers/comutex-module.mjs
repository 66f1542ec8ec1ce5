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
  // Takes the mutex, says so in word 1, and holds it until word 2 is set.
  registerFunction('holdUntilTold', async (handle, sab) => {
    const m = CoMutex.from(handle);
    const words = new Int32Array(sab);
    await m.lock();
    Atomics.store(words, 1, 1);
    const wait = Atomics.waitAsync(words, 2, 0);
    if (wait.async) await wait.value;
    m.unlock();
    return 'released';
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
