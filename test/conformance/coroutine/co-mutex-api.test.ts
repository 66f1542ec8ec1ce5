/**
 * The async-mutex style API of CoMutex in one thread: isLocked, runExclusive,
 * waitForUnlock under FIFO hand-off, `await using` guards, and AbortSignal on each wait.
 * Across threads (a shared CoMutex): lock-api-threads.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { AioError, CoMutex, Coroutine, LockGuard } from 'aio-under-test';

/** Lets promise reactions run (async waiters resume a microtask after their grant). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Whether `p` has settled after the pending reactions ran. */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await settle();
  return done;
}

describe('/coroutine/api/CoMutex', () => {
  it('isLocked follows the state, through a hand-off', async () => {
    const m = new CoMutex();
    expect(m.isLocked()).toBe(false);
    await m.lock();
    const next = m.lock();
    m.unlock();
    expect(m.isLocked()).toBe(true); // handed to the waiter, never free
    await next;
    m.unlock();
    expect(m.isLocked()).toBe(false);
  });

  it('runExclusive: holds the mutex around a sync or async fn and resolves with its result', async () => {
    const m = new CoMutex();
    expect(await m.runExclusive(() => m.tryLock())).toBe(false);
    expect(m.isLocked()).toBe(false);
    const order: number[] = [];
    const a = m.runExclusive(async () => {
      order.push(1);
      await settle();
      order.push(2);
      return 'a';
    });
    const b = m.runExclusive(() => {
      order.push(3);
      return 'b';
    });
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(order).toEqual([1, 2, 3]);
    expect(m.isLocked()).toBe(false);
  });

  it('runExclusive: a throwing fn rejects with its error, releases, and the next waiter runs', async () => {
    const m = new CoMutex();
    const boom = new Error('boom');
    const a = m.runExclusive(() => {
      throw boom;
    });
    const b = m.runExclusive(() => 'after');
    await expect(a).rejects.toBe(boom);
    expect(await b).toBe('after');
    expect(m.isLocked()).toBe(false);
    await expect(m.runExclusive(null as never)).rejects.toThrow(/"fn"/);
    expect(m.isLocked()).toBe(false);
  });

  it('runExclusive: an abort while queued rejects without running fn; the queue goes on', async () => {
    const m = new CoMutex();
    await m.lock();
    const ac = new AbortController();
    let ran = false;
    const aborted = m.runExclusive(() => (ran = true), ac.signal);
    const after = m.runExclusive(() => 'after');
    const reason = new Error('stop');
    ac.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    m.unlock();
    expect(await after).toBe('after');
    expect(ran).toBe(false);
    expect(m.isLocked()).toBe(false);
  });

  it('waitForUnlock: at once when free; under FIFO hand-off, only once the queue has drained', async () => {
    const m = new CoMutex();
    await m.waitForUnlock();
    expect(m.isLocked()).toBe(false);
    await m.lock();
    const queued = m.lock();
    const w = m.waitForUnlock();
    m.unlock(); // handed to `queued`: still locked
    await queued;
    expect(await isSettled(w)).toBe(false);
    let freeWhenResolved: boolean | null = null;
    const seen = w.then(() => (freeWhenResolved = !m.isLocked()));
    m.unlock();
    await seen;
    expect(freeWhenResolved).toBe(true);
  });

  it('waitForUnlock: an abort rejects with the reason, changing nothing; a bad signal is a TypeError', async () => {
    const m = new CoMutex();
    await m.lock();
    const ac = new AbortController();
    const w = m.waitForUnlock(ac.signal);
    const other = m.waitForUnlock();
    const reason = new Error('stop');
    ac.abort(reason);
    await expect(w).rejects.toBe(reason);
    expect(m.isLocked()).toBe(true);
    m.unlock();
    await other;
    await expect(m.waitForUnlock(AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(() => m.waitForUnlock({} as never)).toThrow(/"signal"/);
  });

  it('a mutex with waitForUnlock callers pending cannot be shared (ERR_AIO_BUSY)', async () => {
    const m = new CoMutex();
    await m.lock();
    const w = m.waitForUnlock();
    expect(() => m.handle).toThrow(expect.objectContaining({ code: 'ERR_AIO_BUSY' }));
    m.unlock();
    await w;
    expect(m.handle.kind).toBe('aio.CoMutex');
  });

  it('lockGuardAsync: `await using` unlocks at the end of the scope, exactly once', async () => {
    const m = new CoMutex();
    {
      await using g = await m.lockGuardAsync();
      expect(g).toBeInstanceOf(LockGuard);
      expect(m.isLocked()).toBe(true);
      g.release();
      expect(m.isLocked()).toBe(false);
      await m.lock(); // someone else's hold, which the dispose must leave alone
    }
    expect(m.isLocked()).toBe(true);
    m.unlock();
    await expect(
      (async () => {
        await using _g = await m.lockGuardAsync();
        throw new Error('inside');
      })(),
    ).rejects.toThrow('inside');
    expect(m.isLocked()).toBe(false);
    expect(() => m.unlock()).toThrow(AioError);
  });

  it('lockGuardAsync: an abort while queued takes nothing', async () => {
    const m = new CoMutex();
    await m.lock();
    const ac = new AbortController();
    const g = m.lockGuardAsync(ac.signal);
    ac.abort();
    await expect(g).rejects.toThrow();
    m.unlock();
    expect(m.isLocked()).toBe(false);
  });

  it('coroutine and async lockers queued ahead are served before waitForUnlock resolves', async () => {
    const m = new CoMutex();
    await m.lock();
    const log: string[] = [];
    const co = Coroutine.create(function* () {
      yield* m.lock();
      log.push('co');
      m.unlock();
    });
    co.enter();
    const w = m.waitForUnlock().then(() => log.push('free'));
    const a = m.runExclusive(() => log.push('async'));
    m.unlock();
    await a;
    await w;
    expect(log).toEqual(['co', 'async', 'free']);
  });
});
