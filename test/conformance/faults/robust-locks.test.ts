/**
 * Robust locks for every lock and every thread: a thread that ends holding a Mutex,
 * RecMutex, LockCnt, shared CoMutex or context lock (or queued on a shared CoMutex) does
 * not take the lock with it. The next locker is told (OwnerDiedError, ERR_AIO_OWNER_DIED)
 * promptly, not at its timeout, and holds the lock; an IOThread whose context lock was
 * held by the dead thread goes on. The dead threads here are plain workers the program
 * started (worker_threads on Node, aio's startWorker() elsewhere) as well as IOThreads.
 * Blocking lockers run in an IOThread, so every runtime (a browser main thread may not
 * block) runs the same assertions. A plain worker's own contexts are given back when it
 * ends, and calls into them fail with its end.
 */
import { AioContext, CoMutex, type ContextHandle, Coroutine, IOThread, LockCnt, Mutex, OwnerDiedError, RecMutex, startWorker } from 'aio-under-test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtime } from '../support/runtime.js';

const holderUrl = new URL('../workers/robust-holder.mjs', import.meta.url);
const moduleUrl = new URL('../workers/robust-module.mjs', import.meta.url);
/** Far under every timeout involved, far over a robust check (25 ms) on a loaded machine. */
const PROMPT_MS = 1000;

type Reply = { ready?: boolean; held?: string; queued?: boolean; thread?: number; error?: string; handle?: ContextHandle };

/** A plain worker running robust-holder.mjs. */
interface Holder {
  hold(kind: string, handle: unknown): Promise<Reply>;
  queue(handle: unknown): Promise<Reply>;
  /** Has it join the group of `group` (a context handle) and create a context of its own (never polled). */
  context(group: ContextHandle): Promise<Reply>;
  /** Ends it from inside (process.exit / close()). */
  exit(): void;
  /** Ends it from outside without aio being told (a kill aio only sees through the runtime). */
  kill(): Promise<void>;
}

async function startHolder(): Promise<Holder> {
  const inbox: Reply[] = [];
  const waiting: ((m: Reply) => void)[] = [];
  const deliver = (m: Reply) => (waiting.length ? waiting.shift()!(m) : inbox.push(m));
  const next = () => new Promise<Reply>((r) => (inbox.length ? r(inbox.shift()!) : waiting.push(r)));
  let post: (m: unknown) => void;
  let kill: () => Promise<void>;
  if (runtime === 'node') {
    // A worker aio did not start and is not told about: aio-node sees it being created.
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(holderUrl, { execArgv: [] });
    w.on('message', deliver);
    w.on('error', (e) => deliver({ error: String(e) }));
    post = (m) => w.postMessage(m);
    kill = async () => void (await w.terminate());
  } else {
    const w = startWorker(holderUrl);
    w.addEventListener('message', (e: MessageEvent) => deliver(e.data));
    w.addEventListener('error', (e: ErrorEvent) => deliver({ error: e.message }));
    post = (m) => w.postMessage(m);
    // The runtime's own terminate, not the returned object's: aio learns of this end only
    // as it learns of a crash (Bun's 'close' event, the worker's lifetime Web Lock).
    const terminate = (globalThis as unknown as { Worker: { prototype: { terminate(): void } } }).Worker.prototype.terminate;
    kill = async () => terminate.call(w);
  }
  expect(await next()).toEqual({ ready: true });
  const ask = async (m: unknown) => {
    post(m);
    const r = await next();
    if (r.error) throw new Error(r.error);
    return r;
  };
  return {
    hold: (kind, handle) => ask({ op: 'hold', kind, handle }),
    queue: (handle) => ask({ op: 'queue', handle }),
    context: (group) => ask({ op: 'context', group }),
    exit: () => post({ op: 'exit' }),
    kill,
  };
}

/** Resolves with what `p` settled to, an error included, and how long it took from `since`. */
async function outcome(p: PromiseLike<unknown>, since: number): Promise<{ err: unknown; ms: number }> {
  const err = await Promise.resolve(p).then(
    () => null,
    (e: unknown) => e,
  );
  return { err, ms: performance.now() - since };
}

type Locked = { code: string; ms: number; count?: number };

let locker: IOThread;
beforeAll(async () => {
  locker = await IOThread.create({ name: 'robust-locker', module: moduleUrl });
}, 60_000);
afterAll(async () => {
  await locker.stop();
});

describe('robust locks: plain workers', () => {
  for (const kind of ['Mutex', 'RecMutex'] as const) {
    it(`${kind}: a worker that exits holding it: lockAsync() gets OwnerDiedError promptly`, async () => {
      const lock = kind === 'Mutex' ? new Mutex() : new RecMutex();
      const w = await startHolder();
      expect((await w.hold(kind, lock.handle)).held).toBe(kind);
      const started = performance.now();
      w.exit();
      const { err, ms } = await outcome(lock.lockAsync(), started);
      expect(err).toBeInstanceOf(OwnerDiedError);
      expect((err as OwnerDiedError).code).toBe('ERR_AIO_OWNER_DIED');
      expect(ms).toBeLessThan(PROMPT_MS);
      // The caller holds it: unlock works, and so does the next lock.
      lock.unlock();
      expect(lock.tryLock()).toBe(true);
      lock.unlock();
    });

    it(`${kind}: a worker killed holding it: timedLock(5000) throws OwnerDiedError at once, not at the timeout`, async () => {
      const lock = kind === 'Mutex' ? new Mutex() : new RecMutex();
      const w = await startHolder();
      await w.hold(kind, lock.handle);
      await w.kill();
      const started = performance.now();
      const r = (await locker.call('timedLock', kind, lock.handle, 5000)) as Locked;
      expect(r.code).toBe('ERR_AIO_OWNER_DIED');
      expect(r.ms).toBeLessThan(PROMPT_MS);
      expect(performance.now() - started).toBeLessThan(PROMPT_MS);
      expect(lock.tryLock()).toBe(true); // the locker unlocked it
      lock.unlock();
    });
  }

  it('Mutex: timedLock() still times out (false) when the holder lives', async () => {
    const lock = new Mutex();
    const w = await startHolder();
    await w.hold('Mutex', lock.handle);
    const r = (await locker.call('timedLock', 'Mutex', lock.handle, 100)) as Locked & { value?: boolean };
    expect(r).toMatchObject({ code: 'ok', value: false });
    expect(r.ms).toBeGreaterThanOrEqual(99);
    await w.kill();
  });

  it('LockCnt: a worker that exits holding the lock: lock() in another thread gets OwnerDiedError, counter kept', async () => {
    const lc = new LockCnt();
    lc.inc();
    const w = await startHolder();
    await w.hold('LockCnt', lc.handle);
    w.exit();
    const r = (await locker.call('lockCnt', 'lock', lc.handle)) as Locked;
    expect(r.code).toBe('ERR_AIO_OWNER_DIED');
    expect(r.ms).toBeLessThan(PROMPT_MS);
    expect(r.count).toBe(1);
    lc.dec();
    expect(lc.count()).toBe(0);
  });

  it('LockCnt: a worker killed holding the lock at counter 0: inc() is told, holds it, and can start its visit', async () => {
    const lc = new LockCnt();
    const w = await startHolder();
    await w.hold('LockCnt', lc.handle);
    await w.kill();
    const r = (await locker.call('lockCnt', 'inc', lc.handle)) as Locked;
    expect(r.code).toBe('ERR_AIO_OWNER_DIED');
    expect(r.ms).toBeLessThan(PROMPT_MS);
    // The locker ran incAndUnlock(): one visit, the lock free.
    expect(r.count).toBe(1);
    lc.dec();
    lc.inc();
    lc.dec();
  });

  it('CoMutex (shared): a worker that exits holding it: the next lock() fails with OwnerDiedError, holding it', async () => {
    const m = new CoMutex();
    const w = await startHolder();
    await w.hold('CoMutex', m.handle);
    expect(m.locked).toBe(true);
    const started = performance.now();
    w.exit();
    const { err, ms } = await outcome(m.lock(), started);
    expect(err).toBeInstanceOf(OwnerDiedError);
    expect(ms).toBeLessThan(PROMPT_MS);
    expect(m.locked).toBe(true);
    m.unlock();
    expect(m.locked).toBe(false);
    await m.lock();
    m.unlock();
  });

  it('CoMutex (shared): a coroutine queued in yield* lock() gets OwnerDiedError thrown, holding the mutex', async () => {
    const m = new CoMutex();
    const w = await startHolder();
    await w.hold('CoMutex', m.handle);
    const co = Coroutine.create(function* () {
      try {
        yield* m.lock();
        return 'locked';
      } catch (err) {
        return err;
      }
    });
    AioContext.current().coEnter(co);
    const started = performance.now();
    w.exit();
    const { err, ms } = await outcome(co.promise.then((r) => Promise.reject(r)), started);
    expect(err).toBeInstanceOf(OwnerDiedError);
    expect(ms).toBeLessThan(PROMPT_MS);
    expect(m.locked).toBe(true);
    m.unlock();
    expect(m.locked).toBe(false);
  });

  it('CoMutex (shared): a queued waiter that dies is handed the lock and passes it on; the next holder is told', async () => {
    const m = new CoMutex();
    await m.lock();
    const w = await startHolder();
    expect((await w.queue(m.handle)).queued).toBe(true);
    await w.kill();
    // Handed to the dead waiter, as its turn came.
    m.unlock();
    const started = performance.now();
    const { err, ms } = await outcome(m.lock(), started);
    expect(err).toBeInstanceOf(OwnerDiedError);
    expect(ms).toBeLessThan(PROMPT_MS);
    m.unlock();
    await m.lock();
    m.unlock();
    expect(m.locked).toBe(false);
  });

  it('context lock: a worker that exits holding an IOThread\'s context lock: the next locker is told, the loop goes on', async () => {
    const t = await IOThread.create({ name: 'robust-ctx', module: moduleUrl });
    const w = await startHolder();
    expect((await w.hold('Context', t.context.handle)).held).toBe('Context');
    expect(t.context.tryAcquire()).toBe(false);
    const started = performance.now();
    w.exit();
    const { err, ms } = await outcome(t.context.acquireAsync(), started);
    expect(err).toBeInstanceOf(OwnerDiedError);
    expect(ms).toBeLessThan(PROMPT_MS);
    t.context.release();
    expect(await t.call('add', 1, 2)).toBe(3);
    expect(t.state).toBe('running');
    expect(t.stats().lockOwnerDeaths).toBe(1);
    await t.stop();
  });
});

describe('plain workers: their own contexts', () => {
  for (const how of ['exits', 'is killed'] as const) {
    it(`a worker that ${how}: its context is given back; a call waiting on it and every later one fail`, async () => {
      const w = await startHolder();
      const { handle } = await w.context(locker.context.handle);
      const ctx = AioContext.from(handle!);
      expect(ctx.alive).toBe(true);
      // Sent before the end: the worker never polls, so only its end settles it.
      const waiting = outcome(ctx.call('anything'), performance.now());
      if (how === 'exits') w.exit();
      else await w.kill();
      const { err } = await waiting;
      expect(err).toMatchObject({ code: 'ERR_AIO_THREAD_DIED' });
      expect(ctx.alive).toBe(false);
      await expect(ctx.call('anything')).rejects.toMatchObject({ code: 'ERR_AIO_THREAD_DIED' });
      expect(() => ctx.scheduleOneshot('anything')).toThrow(expect.objectContaining({ code: 'ERR_AIO_THREAD_DIED' }));
    });
  }
});

describe('robust locks: IOThreads', () => {
  it('an IOThread that dies holding another IOThread\'s context lock does not kill it: its loop takes the lock over', async () => {
    const [t, u] = await Promise.all([
      IOThread.create({ name: 'robust-victim', module: moduleUrl }),
      IOThread.create({ name: 'robust-crasher', module: moduleUrl }),
    ]);
    expect(await u.call('holdContextAndCrash', t.context.handle)).toBe('holding');
    await expect.poll(() => u.state, { timeout: 5000 }).toBe('dead');
    // The call wakes t's loop, which finds its lock held by the dead thread.
    const started = performance.now();
    expect(await t.call('add', 1, 2)).toBe(3);
    expect(performance.now() - started).toBeLessThan(PROMPT_MS);
    expect(t.state).toBe('running');
    expect(t.stats().lockOwnerDeaths).toBe(1);
    // The lock works as before.
    await t.context.acquireAsync();
    t.context.release();
    expect(await t.call('add', 2, 3)).toBe(5);
    await Promise.all([t.stop(), u.stop()]);
  });

  it('a context lock taken over by the loop is not reported again to the next locker', async () => {
    const t = await IOThread.create({ name: 'robust-victim2', module: moduleUrl });
    const u = await IOThread.create({ name: 'robust-crasher2', module: moduleUrl });
    await u.call('holdContextAndCrash', t.context.handle);
    await expect.poll(() => u.state, { timeout: 5000 }).toBe('dead');
    expect(await t.call('add', 1, 1)).toBe(2);
    const ctx = AioContext.from(t.context.handle);
    await ctx.acquireAsync();
    ctx.release();
    await Promise.all([t.stop(), u.stop()]);
  });
});
