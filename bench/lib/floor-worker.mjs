// The worker behind the floors and the lock-contention runs. Its first message says what
// it is for:
//   { mode: 'futex', sab }    answers futex pings (blocking) until stopped
//   { mode: 'async', sab }    answers futex pings with Atomics.waitAsync (never blocks)
//   { mode: 'spin', sab }     answers pings by spinning while the ACTIVE word is set
//   { mode: 'echo' }          echoes every message (the MessagePort floor)
//   { mode: 'contend', impl, sab, lock }  then { n, round } per sample: takes the lock n
//                             times, incrementing a shared counter inside, after a barrier
import { futexLock, futexServer, futexUnlock, spinServer, waitAsyncServer } from './futex.mjs';
import { adapterName, importByName, parentChannel } from './platform.mjs';

const parent = await parentChannel();
const init = await parent.next();

if (init.mode === 'futex' || init.mode === 'spin' || init.mode === 'async') {
  const w = new Int32Array(init.sab);
  const seen = Atomics.load(w, 0);
  parent.post({ ready: true });
  if (init.mode === 'futex') futexServer(w, seen);
  else if (init.mode === 'spin') spinServer(w, seen);
  else await waitAsyncServer(w, seen);
  parent.post({ stopped: true });
} else if (init.mode === 'echo') {
  parent.onMessage((m) => parent.post(m));
  parent.post({ ready: true });
} else if (init.mode === 'contend') {
  try {
    const w = new Int32Array(init.sab); // [0] lock word of the inline lock, [1] counter, [2] barrier
    let lock;
    let unlock;
    if (init.impl === 'futex') {
      lock = () => futexLock(w, 0);
      unlock = () => futexUnlock(w, 0);
    } else if (init.impl === 'aio') {
      const aio = await importByName(adapterName);
      const m = aio.Mutex.from(init.lock);
      lock = () => m.lock();
      unlock = () => m.unlock();
    } else if (init.impl === 'aio-rec') {
      const aio = await importByName(adapterName);
      const m = aio.RecMutex.from(init.lock);
      lock = () => m.lock();
      unlock = () => m.unlock();
    } else if (init.impl === 'multithreading') {
      const { Mutex } = await importByName('multithreading');
      const m = new Mutex(undefined, init.lock);
      let g = null;
      lock = () => {
        g = m.blockingLock();
      };
      unlock = () => g.dispose();
    } else throw new Error(`unknown lock impl ${init.impl}`);
    parent.post({ ready: true });
    for (;;) {
      const cmd = await parent.next();
      if (cmd.stop) break;
      const { n, round } = cmd;
      // Barrier: both contenders start together.
      const target = round * 2;
      Atomics.add(w, 2, 1);
      Atomics.notify(w, 2);
      let v;
      while ((v = Atomics.load(w, 2)) < target) Atomics.wait(w, 2, v);
      for (let i = 0; i < n; i++) {
        lock();
        w[1] = w[1] + 1;
        unlock();
      }
      parent.post({ done: true });
    }
  } catch (err) {
    parent.post({ error: String(err?.stack ?? err) });
  }
}
