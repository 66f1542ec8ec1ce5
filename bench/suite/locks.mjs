// Shared-memory locks: aio's QemuMutex/QemuRecMutex/QemuLockCnt/QemuEvent ports against
// an inline futex lock written here and the `multithreading` package's Mutex.
import { futexLock, futexLockOwned, futexUnlock, futexUnlockOwned } from '../lib/futex.mjs';
import { importByName, spawnWorker } from '../lib/platform.mjs';

const lib = (f) => new URL(`../lib/${f}`, import.meta.url);

function missing(aio, names) {
  const absent = names.filter((n) => typeof aio[n] !== 'function');
  if (!absent.length) return undefined;
  return `${absent.join(', ')} not exported by the built aio package (aio-core's index does not re-export src/locks yet)`;
}

export function mutexUncontendedGroup(env) {
  const aio = env.aio;
  const skipAio = missing(aio, ['Mutex', 'RecMutex']);
  let m, rm, mt;
  const w = new Int32Array(new SharedArrayBuffer(8));
  return {
    id: 'mutex-uncontended',
    title: 'Mutex lock + unlock, uncontended (one thread)',
    metric: 'latency',
    opName: 'lock+unlock',
    entries: [
      {
        name: 'aio Mutex',
        kind: 'ours',
        skip: skipAio,
        startup: false,
        setup: () => void (m = new aio.Mutex()),
        run(n) {
          for (let i = 0; i < n; i++) {
            m.lock();
            m.unlock();
          }
        },
      },
      {
        name: 'aio RecMutex (depth 1)',
        kind: 'ours',
        skip: skipAio,
        startup: false,
        setup: () => void (rm = new aio.RecMutex()),
        run(n) {
          for (let i = 0; i < n; i++) {
            rm.lock();
            rm.unlock();
          }
        },
      },
      {
        name: 'inline futex lock (CAS 0→1, exchange 2, wait/notify)',
        kind: 'floor',
        run(n) {
          for (let i = 0; i < n; i++) {
            futexLock(w, 0);
            futexUnlock(w, 0);
          }
        },
      },
      {
        name: 'inline futex lock naming its holder (CAS 0→id, CAS id→0: what error checking needs)',
        kind: 'floor',
        run(n) {
          for (let i = 0; i < n; i++) {
            futexLockOwned(w, 0, 7);
            futexUnlockOwned(w, 0, 7);
          }
        },
      },
      {
        name: 'multithreading Mutex (blockingLock + guard.dispose)',
        kind: 'peer',
        ref: true,
        startup: false,
        async setup() {
          const { Mutex } = await importByName('multithreading');
          mt = new Mutex(undefined, new SharedArrayBuffer(4));
        },
        run(n) {
          for (let i = 0; i < n; i++) mt.blockingLock().dispose();
        },
      },
    ],
  };
}

/** Two worker threads taking the same lock in a loop; the main thread only waits. */
function contended(name, kind, impl, makeLock, extra = {}) {
  let workers = [];
  let round = 0;
  let expected = 0;
  const sab = new SharedArrayBuffer(16);
  const w = new Int32Array(sab);
  return {
    name,
    kind,
    thread: '2 workers',
    setupTimeoutMs: 20_000,
    ...extra,
    async setup() {
      const lock = await makeLock();
      workers = await Promise.all([0, 1].map(() => spawnWorker(lib('floor-worker.mjs'))));
      await Promise.all(workers.map((wk) => wk.ask({ mode: 'contend', impl, sab, lock })));
      await this.run(2);
    },
    async run(n) {
      const each = Math.ceil(n / 2);
      round++;
      expected += 2 * each;
      for (const wk of workers) wk.post({ n: each, round });
      for (const wk of workers) {
        const r = await wk.next();
        if (r.error) throw new Error(r.error);
      }
      if (w[1] !== expected) throw new Error(`lost updates: counter ${w[1]}, expected ${expected}`);
    },
    async teardown() {
      for (const wk of workers) wk.post({ stop: true });
      await Promise.all(workers.map((wk) => wk.terminate()));
    },
  };
}

export function mutexContendedGroup(env) {
  const aio = env.aio;
  const skipAio = missing(aio, ['Mutex']);
  return {
    id: 'mutex-contended',
    title: 'Mutex lock + unlock, 2 threads contending (a shared counter incremented inside)',
    metric: 'latency',
    opName: 'lock+unlock',
    entries: [
      contended('aio Mutex', 'ours', 'aio', async () => new aio.Mutex().handle, { skip: skipAio }),
      contended('inline futex lock', 'floor', 'futex', async () => null),
      contended('multithreading Mutex (blockingLock)', 'peer', 'multithreading', async () => new SharedArrayBuffer(4), { ref: true }),
    ],
  };
}

export function lockCntGroup(env) {
  const aio = env.aio;
  let lc;
  const w = new Int32Array(new SharedArrayBuffer(8));
  return {
    id: 'lockcnt',
    title: 'LockCnt inc + dec (uncontended)',
    metric: 'latency',
    opName: 'inc+dec',
    entries: [
      {
        name: 'aio LockCnt inc + dec',
        kind: 'ours',
        skip: missing(aio, ['LockCnt']),
        startup: false,
        setup: () => void (lc = new aio.LockCnt()),
        run(n) {
          for (let i = 0; i < n; i++) {
            lc.inc();
            lc.dec();
          }
        },
      },
      {
        name: 'Atomics.add + Atomics.sub',
        kind: 'floor',
        ref: true,
        run(n) {
          for (let i = 0; i < n; i++) {
            Atomics.add(w, 0, 4);
            Atomics.sub(w, 0, 4);
          }
        },
      },
    ],
  };
}

export function eventGroup(env) {
  const aio = env.aio;
  let ev;
  const w = new Int32Array(new SharedArrayBuffer(8));
  return {
    id: 'event',
    title: 'Event set + reset (nobody waiting)',
    metric: 'latency',
    opName: 'set+reset',
    entries: [
      {
        name: 'aio Event set + reset',
        kind: 'ours',
        skip: missing(aio, ['Event']),
        startup: false,
        setup: () => void (ev = new aio.Event()),
        run(n) {
          for (let i = 0; i < n; i++) {
            ev.set();
            ev.reset();
          }
        },
      },
      {
        name: 'Atomics.exchange + Atomics.or',
        kind: 'floor',
        ref: true,
        run(n) {
          for (let i = 0; i < n; i++) {
            Atomics.exchange(w, 0, 0);
            Atomics.or(w, 0, 1);
          }
        },
      },
    ],
  };
}
