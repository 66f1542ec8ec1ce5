/**
 * The async-mutex style API of Mutex, RecMutex and Semaphore in one thread: isLocked,
 * runExclusive, waitForUnlock, lock guards for `using`, weighted acquire/release, and
 * AbortSignal on every wait. "Another thread" is simulated by switching this thread's
 * lock id (setThreadId); lock-api-threads.test.ts runs them across real threads.
 */
import { describe, expect, it } from 'vitest';
import { AioError, OwnerDiedError } from '../../../packages/aio-core/src/base/errors.js';
import { wakeTable } from '../../../packages/aio-core/src/base/shared-memory.js';
import { LockGuard, Mutex, RecMutex, Semaphore } from '../../../packages/aio-core/src/locks/index.js';
import { threadEnded } from '../../../packages/aio-core/src/threads/start-worker.js';
import { OTHER, asThread, canBlock, expectCode, expectRejectCode, settled, withHost } from './helpers.js';

const noBlock = { canBlock: () => false };

/** A thread id recorded as ended, as if its thread died (unique per call). */
let nextGhost = 0x3fffffe0;
function ghostThread(): number {
  wakeTable();
  const id = nextGhost++;
  threadEnded(id);
  return id;
}

const mutexes: [string, () => Mutex | RecMutex][] = [
  ['Mutex', () => new Mutex()],
  ['RecMutex', () => new RecMutex()],
];

for (const [name, make] of mutexes) {
  describe(`/locking/api/${name}`, () => {
    it('isLocked follows the state, whoever holds it', () => {
      const m = make();
      expect(m.isLocked()).toBe(false);
      m.lock();
      expect(m.isLocked()).toBe(true);
      m.unlock();
      expect(m.isLocked()).toBe(false);
      asThread(OTHER, () => m.lock());
      expect(m.isLocked()).toBe(true);
      asThread(OTHER, () => m.unlock());
    });

    it('runExclusive: holds the lock around a sync or async fn and resolves with its result', async () => {
      const m = make();
      expect(await m.runExclusive(() => (m.isLocked() ? 'held' : 'free'))).toBe('held');
      expect(m.isLocked()).toBe(false);
      const r = await m.runExclusive(async () => {
        await settled(Promise.resolve());
        return asThread(OTHER, () => m.tryLock());
      });
      expect(r).toBe(false); // nobody else got in while fn awaited
      expect(m.isLocked()).toBe(false);
    });

    it('runExclusive: a throwing or rejecting fn rejects with its error and releases the lock', async () => {
      const m = make();
      const boom = new Error('boom');
      await expect(
        m.runExclusive(() => {
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(m.isLocked()).toBe(false);
      await expect(m.runExclusive(() => Promise.reject(boom))).rejects.toBe(boom);
      expect(m.isLocked()).toBe(false);
    });

    it('runExclusive: a bad fn is a TypeError naming "fn", the lock untouched', async () => {
      const m = make();
      await expect(m.runExclusive(42 as never)).rejects.toThrow(/"fn"/);
      expect(m.isLocked()).toBe(false);
    });

    it('runExclusive: waits for the holder; an abort while waiting rejects without running fn or changing the lock', async () => {
      const m = make();
      asThread(OTHER, () => m.lock());
      let ran = 0;
      const queued = m.lockAsync(); // a locker queued before, which must still get the lock
      const ac = new AbortController();
      const p = m.runExclusive(() => ran++, ac.signal);
      expect(await settled(p)).toBe(false);
      const reason = new Error('stop');
      ac.abort(reason);
      await expect(p).rejects.toBe(reason);
      expect(ran).toBe(0);
      expect(asThread(OTHER, () => m.tryLock())).toBe(name === 'RecMutex'); // still OTHER's (RecMutex: one more level)
      if (name === 'RecMutex') asThread(OTHER, () => m.unlock());
      asThread(OTHER, () => m.unlock());
      await queued; // the abort left no abandoned waiter to swallow the wake-up
      m.unlock();
      expect(await m.runExclusive(() => ran++)).toBe(0);
    });

    it('waitForUnlock: resolves at once when free, without taking the lock', async () => {
      const m = make();
      await m.waitForUnlock();
      expect(m.isLocked()).toBe(false);
    });

    it('waitForUnlock: waits for the holder, takes nothing, and leaves queued lockers their wake-up', async () => {
      const m = make();
      asThread(OTHER, () => m.lock());
      const first = m.waitForUnlock();
      const locker = m.lockAsync();
      const second = m.waitForUnlock();
      expect(await settled(first)).toBe(false);
      asThread(OTHER, () => m.unlock());
      // The unlock wakes one sleeper; whichever it is, the locker gets the lock and each
      // waiter sees the lock free (before the locker takes it, or after it unlocks).
      await locker;
      expect(m.isLocked()).toBe(true);
      m.unlock();
      await Promise.all([first, second]);
      expect(m.isLocked()).toBe(false);
    });

    it('waitForUnlock: an abort rejects with the reason and leaves the lock and its lockers as they were', async () => {
      const m = make();
      asThread(OTHER, () => m.lock());
      const ac = new AbortController();
      const w = m.waitForUnlock(ac.signal);
      const locker = m.lockAsync();
      expect(await settled(w)).toBe(false);
      ac.abort();
      const e = await w.then(
        () => null,
        (err: unknown) => err,
      );
      expect((e as Error).name).toBe('AbortError');
      expect(asThread(OTHER, () => m.isLocked())).toBe(true);
      asThread(OTHER, () => m.unlock());
      await locker;
      m.unlock();
    });

    it('waitForUnlock: an abort in the same turn as the unlock (the wake-up racing it) loses no wake-up', async () => {
      const m = make();
      asThread(OTHER, () => m.lock());
      const ac = new AbortController();
      const w = m.waitForUnlock(ac.signal);
      const locker = m.lockAsync();
      expect(await settled(w)).toBe(false);
      asThread(OTHER, () => m.unlock());
      ac.abort(new Error('late'));
      await w.catch(() => undefined); // either outcome, as long as the locker is not stranded
      await locker;
      m.unlock();
      expect(m.isLocked()).toBe(false);
    });

    it('waitForUnlock: an aborted signal rejects at once; a bad signal is a TypeError naming "signal"', async () => {
      const m = make();
      const reason = new Error('already');
      await expect(m.waitForUnlock(AbortSignal.abort(reason))).rejects.toBe(reason);
      await expect(m.waitForUnlock({} as never)).rejects.toThrow(/"signal"/);
    });

    it('waitForUnlock: a holder whose thread died fails it with ERR_AIO_OWNER_DIED, the lock still held', async () => {
      const m = make();
      const ghost = ghostThread();
      asThread(ghost, () => m.lock());
      const e = await expectRejectCode(m.waitForUnlock(), 'ERR_AIO_OWNER_DIED', AioError);
      expect(e).not.toBeInstanceOf(OwnerDiedError);
      expect(m.isLocked()).toBe(true);
      // The next locker takes it over and is told.
      await expectRejectCode(m.lockAsync(), 'ERR_AIO_OWNER_DIED', OwnerDiedError);
      m.unlock();
    });

    it('lockGuard: `using` unlocks at the end of the scope, also when it throws', () => {
      const m = make();
      {
        using g = m.lockGuard();
        expect(g).toBeInstanceOf(LockGuard);
        expect(g.held).toBe(true);
        expect(m.isLocked()).toBe(true);
      }
      expect(m.isLocked()).toBe(false);
      expect(() => {
        using _g = m.lockGuard();
        throw new Error('inside');
      }).toThrow('inside');
      expect(m.isLocked()).toBe(false);
    });

    it('lockGuard: release() then dispose unlocks exactly once (a later holder keeps the lock)', () => {
      const m = make();
      {
        using g = m.lockGuard();
        g.release();
        expect(g.held).toBe(false);
        asThread(OTHER, () => m.lock());
        g[Symbol.dispose]();
        g.release();
      }
      expect(asThread(OTHER, () => m.isLocked())).toBe(true);
      asThread(OTHER, () => m.unlock());
      expect(m.isLocked()).toBe(false);
    });

    it('lockGuard: released by another thread throws ERR_AIO_NOT_OWNER and stays held', () => {
      const m = make();
      const g = m.lockGuard();
      expectCode(() => asThread(OTHER, () => g.release()), 'ERR_AIO_NOT_OWNER', AioError);
      expect(g.held).toBe(true);
      g.release();
      expect(m.isLocked()).toBe(false);
    });

    it('lockGuard: ERR_AIO_CANNOT_BLOCK where it would wait in a thread that may not block, changing nothing', () => {
      const m = make();
      withHost(noBlock, () => {
        asThread(OTHER, () => m.lock());
        expectCode(() => m.lockGuard(), 'ERR_AIO_CANNOT_BLOCK', AioError);
        asThread(OTHER, () => m.unlock());
        using _g = m.lockGuard(); // uncontended: never waits
      });
      expect(m.isLocked()).toBe(false);
    });

    it('lockGuardAsync: `await using` unlocks at the end of the scope; an abort while waiting takes nothing', async () => {
      const m = make();
      {
        await using g = await m.lockGuardAsync();
        expect(g.held).toBe(true);
        expect(m.isLocked()).toBe(true);
      }
      expect(m.isLocked()).toBe(false);
      asThread(OTHER, () => m.lock());
      const ac = new AbortController();
      const p = m.lockGuardAsync(ac.signal);
      expect(await settled(p)).toBe(false);
      ac.abort();
      await expect(p).rejects.toThrow();
      asThread(OTHER, () => m.unlock());
      expect(m.isLocked()).toBe(false);
    });

    it('scoped forms after a holder died: the lock is released again and the death reported, fn not run', async () => {
      const m = make();
      asThread(ghostThread(), () => m.lock());
      let ran = false;
      const e = await expectRejectCode(
        m.runExclusive(() => (ran = true)),
        'ERR_AIO_OWNER_DIED',
        AioError,
      );
      expect(e.cause).toBeInstanceOf(OwnerDiedError);
      expect(e.message).toMatch(new RegExp(`${name}\\.runExclusive\\(\\).*released again`));
      expect(ran).toBe(false);
      expect(m.isLocked()).toBe(false);
      asThread(ghostThread(), () => m.lock());
      await expectRejectCode(m.lockGuardAsync(), 'ERR_AIO_OWNER_DIED', AioError);
      expect(m.isLocked()).toBe(false);
      if (canBlock) {
        asThread(ghostThread(), () => m.lock());
        expectCode(() => m.lockGuard(), 'ERR_AIO_OWNER_DIED', AioError);
        expect(m.isLocked()).toBe(false);
      }
    });
  });
}

describe('/locking/api/RecMutex levels', () => {
  it('runExclusive and guards inside a hold add and undo one level; waitForUnlock waits for the last', async () => {
    const m = new RecMutex();
    const outer = m.lockGuard();
    expect(await m.runExclusive(() => m.isLocked())).toBe(true);
    {
      using _inner = m.lockGuard();
    }
    expect(m.isLocked()).toBe(true); // the outer level is still held
    const w = m.waitForUnlock(); // another task of this thread waits for it
    expect(await settled(w)).toBe(false);
    outer.release();
    await w;
    expect(m.isLocked()).toBe(false);
  });
});

describe('/locking/api/Semaphore', () => {
  it('acquire(n) takes n units at once when there, release(n) gives them back', async () => {
    const s = new Semaphore(5);
    await s.acquire(3);
    expect(s.value()).toBe(2);
    await s.acquire();
    expect(s.value()).toBe(1);
    s.release(4);
    expect(s.value()).toBe(5);
    expect(s.isLocked()).toBe(false);
    await s.acquire(5);
    expect(s.isLocked()).toBe(true);
    s.release(5);
  });

  it('acquires of one object are first come, first served: a small one waits behind a large one', async () => {
    const s = new Semaphore(0);
    const order: string[] = [];
    const large = s.acquire(3).then(() => order.push('large'));
    const small = s.acquire(1).then(() => order.push('small'));
    s.release(1);
    expect(await settled(small)).toBe(false); // its unit is there, but the large one is first
    expect(s.tryAcquire(1)).toBe(false); // nor can tryAcquire overtake the line
    expect(s.value()).toBe(1);
    s.release(2);
    await large;
    expect(s.value()).toBe(0);
    expect(await settled(small)).toBe(false);
    s.release(1);
    await small;
    expect(order).toEqual(['large', 'small']);
    expect(s.value()).toBe(0);
  });

  it('post() and wait() still work beside weighted waiters; posts wake a weighted waiter', async () => {
    const s = new Semaphore(0);
    const p = s.acquire(2);
    s.post();
    expect(await settled(p)).toBe(false);
    s.post();
    await p;
    expect(s.value()).toBe(0);
    s.release(2);
    await s.waitAsync();
    expect(s.timedWait(0)).toBe(true);
    expect(s.value()).toBe(0);
  });

  it('an abort of a queued acquire rejects with the reason and takes nothing; the line moves on', async () => {
    const s = new Semaphore(2);
    const headAbort = new AbortController();
    const head = s.acquire(3, headAbort.signal);
    const middleAbort = new AbortController();
    const middle = s.acquire(1, middleAbort.signal);
    const last = s.acquire(1);
    const reason = new Error('middle');
    middleAbort.abort(reason);
    await expect(middle).rejects.toBe(reason);
    expect(s.value()).toBe(2);
    expect(await settled(last)).toBe(false);
    headAbort.abort(new Error('head'));
    await expect(head).rejects.toThrow('head');
    await last; // no longer behind the large one
    expect(s.value()).toBe(1);
  });

  it('an abort racing the release that would serve it ends one way only, and loses no units', async () => {
    const s = new Semaphore(1);
    const ac = new AbortController();
    const head = s.acquire(2, ac.signal);
    const next = s.acquire(1);
    expect(await settled(head)).toBe(false);
    s.release(1);
    ac.abort(new Error('race'));
    const took = await head.then(
      () => true,
      () => false,
    );
    await next;
    expect(s.value()).toBe(took ? 0 : 1);
  });

  it('tryAcquire(n) and release(n) check their arguments, changing nothing', () => {
    const s = new Semaphore(1);
    expect(s.tryAcquire(2)).toBe(false);
    expect(s.tryAcquire(1)).toBe(true);
    expect(() => s.release(0)).toThrow(/"n"/);
    expect(() => s.release(1.5)).toThrow(RangeError);
    expect(() => s.acquire(-1)).toThrow(/"n"/);
    expect(() => s.tryAcquire(0)).toThrow(/"n"/);
    s.release(1);
    expectCode(() => s.release(0x7fffffff), 'ERR_AIO_UNBALANCED', AioError);
    expect(s.value()).toBe(1);
  });

  it('waitForUnlock(n): at once when n units are there and nobody is in line; takes nothing', async () => {
    const s = new Semaphore(2);
    await s.waitForUnlock(2);
    expect(s.value()).toBe(2);
    const w = s.waitForUnlock(3);
    expect(await settled(w)).toBe(false);
    s.release(1);
    await w;
    expect(s.value()).toBe(3);
  });

  it('waitForUnlock(n) waits for the acquires in line before it, then for n units', async () => {
    const s = new Semaphore(0);
    const a = s.acquire(2);
    const w = s.waitForUnlock(1);
    s.release(2);
    await a;
    expect(await settled(w)).toBe(false); // the acquire took both units
    s.release(1);
    await w;
    expect(s.value()).toBe(1);
  });

  it('waitForUnlock(n): an abort rejects with the reason, the semaphore unchanged', async () => {
    const s = new Semaphore(0);
    const ac = new AbortController();
    const inLine = s.acquire(1);
    const w = s.waitForUnlock(1, ac.signal); // waits for the line first
    const w2Abort = new AbortController();
    const w2 = s.waitForUnlock(5, w2Abort.signal);
    ac.abort(new Error('w'));
    w2Abort.abort(new Error('w2'));
    await expect(w).rejects.toThrow('w');
    await expect(w2).rejects.toThrow('w2');
    s.release(1);
    await inLine;
    expect(s.value()).toBe(0);
  });

  it('runExclusive(fn, n) holds n units around fn, giving them back however it ends', async () => {
    const s = new Semaphore(3);
    expect(await s.runExclusive(() => s.value(), 2)).toBe(1);
    expect(s.value()).toBe(3);
    await expect(
      s.runExclusive(async () => {
        throw new Error('inside');
      }, 3),
    ).rejects.toThrow('inside');
    expect(s.value()).toBe(3);
    const ac = new AbortController();
    const held = s.acquire(3);
    await held;
    let ran = false;
    const p = s.runExclusive(() => (ran = true), 1, ac.signal);
    ac.abort();
    await expect(p).rejects.toThrow();
    expect(ran).toBe(false);
    s.release(3);
    expect(s.value()).toBe(3);
  });

  it('acquireGuard(n): `await using` gives the units back at the end of the scope, exactly once', async () => {
    const s = new Semaphore(2);
    {
      await using g = await s.acquireGuard(2);
      expect(s.value()).toBe(0);
      g.release();
      g.release();
      expect(s.value()).toBe(2);
    }
    expect(s.value()).toBe(2);
    {
      await using _g = await s.acquireGuard(1);
      expect(s.value()).toBe(1);
    }
    expect(s.value()).toBe(2);
  });
});
