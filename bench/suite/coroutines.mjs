// Coroutines and the coroutine mutex, in one thread, after QEMU's /perf/* tests
// (test-coroutine.c: lifecycle, yield, function-call) and next to the async mutexes
// people use.
import { importByName, isBrowser } from '../lib/platform.mjs';

/**
 * Peers: async-mutex's Mutex and @esfx/async-mutex's AsyncMutex, loaded in setup().
 * async-mutex ships two builds: `import` gets its ES module (native generators behind
 * __awaiter), `require()` its CommonJS one (tslib's generator state machine), which runs
 * 2-3x faster on V8. Both are measured; the targets use the ES module, what an
 * ESM program (like this suite) gets.
 */
function asyncMutexPeer(which, contenders) {
  let acquire;
  const body = async (k) => {
    for (let i = 0; i < k; i++) {
      const release = await acquire();
      if (contenders > 1) await null;
      release();
    }
  };
  return {
    name:
      which === 'async-mutex'
        ? 'async-mutex Mutex (acquire, release())'
        : which === 'async-mutex-cjs'
          ? 'async-mutex Mutex, CommonJS build via require()'
          : '@esfx/async-mutex AsyncMutex (lock, unlock)',
    kind: 'peer',
    ref: which === '@esfx/async-mutex',
    startup: false,
    skip: which === 'async-mutex-cjs' && isBrowser ? 'no require() in a browser page' : undefined,
    async setup() {
      if (which === 'async-mutex-cjs') {
        const { createRequire } = await import('node:module');
        const { Mutex } = createRequire(import.meta.url)('async-mutex');
        const m = new Mutex();
        acquire = () => m.acquire();
      } else if (which === 'async-mutex') {
        const { Mutex } = await importByName('async-mutex');
        const m = new Mutex();
        acquire = () => m.acquire();
      } else {
        const { AsyncMutex } = await importByName('@esfx/async-mutex');
        const m = new AsyncMutex();
        const unlock = () => m.unlock();
        acquire = async () => {
          await m.lock();
          return unlock;
        };
      }
    },
    run: contenders === 1 ? (n) => body(n) : (n) => Promise.all(Array.from({ length: contenders }, () => body(Math.ceil(n / contenders)))),
  };
}

/**
 * What any promise-based FIFO mutex costs at least with `await`: one fresh promise per
 * contended lock, its resolve function queued, nothing else (no cancellation, no
 * coroutines, no checks). Not a usable lock; it shows how close the real ones come.
 */
function bareHandOffFloor(contenders, withIterator = false) {
  const ready = Promise.resolve();
  // The API's waitable is one object for `await` and `yield*`: its promise carries an
  // iterator. Setting that property is all this variant adds.
  const iterator = function* () {};
  let locked = false;
  let queue = [];
  let head = 0;
  let taken;
  const take = (resolve) => {
    taken = resolve;
  };
  const lock = () => {
    if (!locked) {
      locked = true;
      return ready;
    }
    const p = new Promise(take);
    if (withIterator) p[Symbol.iterator] = iterator;
    queue.push(taken);
    return p;
  };
  const unlock = () => {
    if (head === queue.length) {
      locked = false;
      return;
    }
    const resolve = queue[head];
    queue[head++] = undefined;
    if (head >= 1024 && head * 2 >= queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    resolve();
  };
  const body = async (k) => {
    for (let i = 0; i < k; i++) {
      await lock();
      await null;
      unlock();
    }
  };
  return {
    name: withIterator ? 'bare promise hand-off whose promises carry an iterator (as a waitable must, for yield*)' : 'bare promise hand-off (a FIFO of resolve functions, nothing else)',
    kind: 'floor',
    run: (n) => Promise.all(Array.from({ length: contenders }, () => body(Math.ceil(n / contenders)))),
  };
}

/**
 * The same for coroutines: 8 bare generators handing a lock word over through a
 * hand-made scheduler (a ring of waiters, the holder re-entered directly, the woken one
 * resumed right after), no Coroutine, no waiter objects, no checks. What any
 * generator-based lock costs at least; not a usable lock.
 */
function bareGeneratorFloor(contenders) {
  const RING = 64; // more than the contenders: a waiter queues at most once
  return {
    name: 'bare generator hand-off (hand-made scheduler, no Coroutine)',
    kind: 'floor',
    run(n) {
      const k = Math.ceil(n / contenders);
      const ring = new Array(RING);
      let head = 0;
      let tail = 0;
      let locked = false;
      let done = 0;
      let running = null;
      let holder = null;
      let woken = null;
      function* body() {
        for (let i = 0; i < k; i++) {
          if (locked) {
            ring[tail++ % RING] = running;
            yield;
          } else {
            locked = true;
          }
          holder = running;
          yield;
          if (head === tail) locked = false;
          else woken = ring[head++ % RING];
        }
        done++;
      }
      for (let c = 0; c < contenders; c++) {
        running = body();
        running.next();
      }
      while (done < contenders) {
        running = holder;
        running.next();
        while (woken !== null) {
          running = woken;
          woken = null;
          running.next();
        }
      }
    },
  };
}

/** What a finished wait answers `yield*` with: the generator goes on. */
const DONE = Object.freeze({ done: true, value: undefined });
const STILL = Object.freeze({ done: false, value: undefined });
/** The lock() of a free lock: nothing to wait for. */
const FREE = Object.freeze({ [Symbol.iterator]: () => FREE_IT });
const FREE_IT = Object.freeze({ next: () => DONE });

/**
 * A waiter object for the two floors below: `yield*` on it yields until `granted`.
 * `waker` is what the unlock wakes.
 */
class FloorWaiter {
  granted = false;
  waker = null;
  constructor(waker) {
    this.waker = waker;
  }
  [Symbol.iterator]() {
    return this;
  }
  next() {
    return this.granted ? DONE : STILL;
  }
}

/**
 * The bare generator hand-off with the API's shape: each contender waits with
 * `yield* lock()`, which returns a waiter object when the lock is held (as `yield* m.lock()`
 * must: the waitable exists before anyone waits on it). What a generator-based lock with
 * that API costs at least; the difference to the bare floor is the delegation and the
 * object per wait.
 */
function yieldStarFloor(contenders) {
  const RING = 64;
  return {
    name: 'bare generators waiting with yield* lock() (a waiter object per wait, as the API has; no Coroutine)',
    kind: 'floor',
    run(n) {
      const k = Math.ceil(n / contenders);
      const ring = new Array(RING);
      let head = 0;
      let tail = 0;
      let locked = false;
      let done = 0;
      let running = null;
      let holder = null;
      let woken = null;
      const lock = () => {
        if (!locked) {
          locked = true;
          return FREE;
        }
        const w = new FloorWaiter(running);
        ring[tail++ % RING] = w;
        return w;
      };
      function* body() {
        for (let i = 0; i < k; i++) {
          yield* lock();
          holder = running;
          yield;
          if (head === tail) locked = false;
          else {
            const w = ring[head++ % RING];
            w.granted = true;
            woken = w.waker;
          }
        }
        done++;
      }
      for (let c = 0; c < contenders; c++) {
        running = body();
        running.next();
      }
      while (done < contenders) {
        running = holder;
        running.next();
        while (woken !== null) {
          running = woken;
          woken = null;
          running.next();
        }
      }
    },
  };
}

/**
 * The least a coroutine layer adds to the floor above: an object per generator, the
 * running one in a variable (an unlock wakes the waiter's coroutine without knowing who
 * drives it), a wake-up slot on the waker, and an enter loop that runs the woken one when
 * the waker yields. No checks, no cancellation, no contexts, no promise side.
 */
function coroutineLayerFloor(contenders) {
  const RING = 64;
  return {
    name: 'bare generators with yield* lock() behind a minimal coroutine layer (running coroutine, wake-up slot, enter loop)',
    kind: 'floor',
    run(n) {
      const k = Math.ceil(n / contenders);
      const ring = new Array(RING);
      let head = 0;
      let tail = 0;
      let locked = false;
      let done = 0;
      let current = null;
      let holder = null;
      const enter = (co) => {
        for (let c = co; c !== null; ) {
          current = c;
          c.gen.next();
          current = null;
          const next = c.woken;
          c.woken = null;
          c = next;
        }
      };
      const lock = () => {
        if (!locked) {
          locked = true;
          return FREE;
        }
        const w = new FloorWaiter(current);
        ring[tail++ % RING] = w;
        return w;
      };
      function* body() {
        for (let i = 0; i < k; i++) {
          yield* lock();
          holder = current;
          yield;
          if (head === tail) locked = false;
          else {
            const w = ring[head++ % RING];
            w.granted = true;
            current.woken = w.waker;
          }
        }
        done++;
      }
      for (let c = 0; c < contenders; c++) {
        const co = { gen: null, woken: null };
        co.gen = body();
        enter(co);
      }
      while (done < contenders) enter(holder);
    },
  };
}

export function coMutexGroup(env, contenders) {
  const aio = env.aio;
  const { CoMutex, Coroutine } = aio;
  const m = new CoMutex();
  const m2 = new CoMutex();
  const m3 = new CoMutex();
  const asyncBody = async (k) => {
    for (let i = 0; i < k; i++) {
      await m.lock();
      if (contenders > 1) await null;
      m.unlock();
    }
  };
  const entries = [
    {
      name: 'aio CoMutex from async functions (await m.lock(); m.unlock())',
      kind: 'ours',
      run: contenders === 1 ? (n) => asyncBody(n) : (n) => Promise.all(Array.from({ length: contenders }, () => asyncBody(Math.ceil(n / contenders)))),
    },
  ];
  if (contenders === 1) {
    entries.push({
      name: 'aio CoMutex in a coroutine (yield* m.lock(); m.unlock())',
      kind: 'ours',
      run(n) {
        Coroutine.create(function* () {
          for (let i = 0; i < n; i++) {
            yield* m2.lock();
            m2.unlock();
          }
        }).enter();
      },
    });
  } else {
    entries.push({
      name: `aio CoMutex, ${contenders} coroutines (yield once inside; the holder re-entered directly, as QEMU's /locking/co-mutex)`,
      kind: 'ours',
      run(n) {
        const k = Math.ceil(n / contenders);
        let done = 0;
        let holder = null;
        const body = function* () {
          for (let i = 0; i < k; i++) {
            yield* m3.lock();
            holder = Coroutine.self();
            yield;
            m3.unlock();
          }
          done++;
        };
        for (let c = 0; c < contenders; c++) Coroutine.create(body).enter();
        while (done < contenders) holder.enter();
      },
    });
    let ctx;
    entries.push({
      name: `aio CoMutex, ${contenders} coroutines (yield once inside via ctx.coSchedule, driven by poll(false))`,
      kind: 'ours',
      startup: false,
      setup() {
        ctx = new aio.AioContext({ name: 'comutex-bench' });
      },
      run(n) {
        const k = Math.ceil(n / contenders);
        let done = 0;
        const body = function* () {
          for (let i = 0; i < k; i++) {
            yield* m2.lock();
            ctx.coSchedule(Coroutine.self());
            yield;
            m2.unlock();
          }
          done++;
        };
        for (let c = 0; c < contenders; c++) ctx.coEnter(Coroutine.create(body));
        while (done < contenders) ctx.poll(false);
      },
      teardown: () => ctx.close(),
    });
  }
  if (contenders > 1) entries.push(bareHandOffFloor(contenders), bareHandOffFloor(contenders, true), bareGeneratorFloor(contenders), yieldStarFloor(contenders), coroutineLayerFloor(contenders));
  entries.push(
    asyncMutexPeer('async-mutex', contenders),
    asyncMutexPeer('async-mutex-cjs', contenders),
    asyncMutexPeer('@esfx/async-mutex', contenders),
  );
  return {
    id: contenders === 1 ? 'comutex-uncontended' : `comutex-${contenders}`,
    title:
      contenders === 1
        ? 'Coroutine mutex lock + unlock, uncontended'
        : `Coroutine mutex, ${contenders} contenders (lock; yield once inside; unlock)`,
    metric: 'latency',
    opName: 'lock+unlock',
    entries,
  };
}

// Plain functions kept out of line as far as JS allows: called through an array so the
// call site stays polymorphic.
const fns = [(x) => x + 1, (x) => x + 2];

export function coroutinePerfGroups(env) {
  const { Coroutine } = env.aio;
  const empty = function* () {};
  const forever = function* () {
    for (;;) yield;
  };
  let co, gen;
  const functionCall = {
    name: 'plain function call (/perf/function-call)',
    kind: 'floor',
    run(n) {
      let x = 0;
      for (let i = 0; i < n; i++) x = fns[i & 1](x);
      if (x === -1) throw new Error('unreachable');
    },
  };
  return [
    {
      id: 'co-lifecycle',
      title: 'Coroutine lifecycle: create + enter to completion (/perf/lifecycle)',
      metric: 'latency',
      opName: 'create+enter',
      entries: [
        {
          name: 'aio Coroutine.create(fn).enter()',
          kind: 'ours',
          run(n) {
            for (let i = 0; i < n; i++) Coroutine.create(empty).enter();
          },
        },
        {
          name: 'raw generator: create + next()',
          kind: 'floor',
          ref: true,
          run(n) {
            for (let i = 0; i < n; i++) empty().next();
          },
        },
        functionCall,
      ],
    },
    {
      id: 'co-yield',
      title: 'Coroutine enter/yield round trip (/perf/yield)',
      metric: 'latency',
      opName: 'enter+yield',
      entries: [
        {
          name: 'aio co.enter() of a coroutine that yields in a loop',
          kind: 'ours',
          startup: false,
          setup: () => void (co = Coroutine.create(forever)),
          run(n) {
            for (let i = 0; i < n; i++) co.enter();
          },
        },
        {
          name: 'raw generator next()',
          kind: 'floor',
          ref: true,
          startup: false,
          setup: () => void (gen = forever()),
          run(n) {
            for (let i = 0; i < n; i++) gen.next();
          },
        },
        { ...functionCall },
      ],
    },
  ];
}
