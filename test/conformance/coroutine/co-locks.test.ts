/**
 * Coroutine locks beyond QEMU's unit tests: CoMutex FIFO hand-off (no barging),
 * coroutine and async waiters sharing one FIFO, cancellation of queued and of already
 * granted waiters (by AbortSignal and by Coroutine.cancel) without losing a hand-off,
 * CoRwLock fairness, and CoQueue wait/next/restartAll with relock. Nothing blocks the
 * thread.
 */
import { describe, expect, it } from 'vitest';
import { AioContext } from 'aio-under-test';
import { CoMutex, CoQueue, CoRwLock, Coroutine } from 'aio-under-test';

/** Lets promise reactions run (async waiters resume a microtask after their grant). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/**
 * Locks `m` and queues two async lock() requests; a coroutine (not yet entered) waits
 * for the first with yield*, and `nextHasIt()` tells whether the second was granted.
 */
function lightWaiterInCoroutine(m: CoMutex) {
  expect(m.tryLock()).toBe(true);
  const w = m.lock();
  let next = false;
  const later = Promise.resolve(m.lock()).then(() => {
    next = true;
  });
  const co = Coroutine.create(function* () {
    yield* w;
    throw new Error('unreachable: the coroutine was cancelled');
  });
  return { co, later, nextHasIt: () => next };
}

describe('CoMutex', () => {
  it('uncontended lock works with await and with yield*', async () => {
    const m = new CoMutex();
    await m.lock();
    expect(m.locked).toBe(true);
    m.unlock();
    const co = Coroutine.create(function* () {
      yield* m.lock();
      m.unlock();
      return 'ok';
    });
    co.enter();
    expect(co.done).toBe(true);
    expect(m.locked).toBe(false);
  });

  it('hands the lock to the oldest waiter: no barging by tryLock() or a new lock()', async () => {
    const m = new CoMutex();
    const order: string[] = [];
    expect(m.tryLock()).toBe(true);
    const b = Coroutine.create(function* () {
      yield* m.lock();
      order.push('b');
      m.unlock();
    });
    b.enter();
    const c = (async () => {
      await m.lock();
      order.push('c');
      m.unlock();
    })();
    await settle();
    m.unlock(); // hand-off to b: the mutex stays held
    expect(m.locked).toBe(true);
    expect(m.tryLock()).toBe(false);
    const d = (async () => {
      await m.lock();
      order.push('d');
      m.unlock();
    })();
    // b ran at once (woken from outside any coroutine) and handed over to c.
    expect(order).toEqual(['b']);
    await c;
    await d;
    expect(order).toEqual(['b', 'c', 'd']);
    expect(m.locked).toBe(false);
  });

  it('coroutine and async waiters share one FIFO', async () => {
    const m = new CoMutex();
    const order: number[] = [];
    expect(m.tryLock()).toBe(true);
    const promises: Promise<unknown>[] = [];
    for (let i = 0; i < 8; i++) {
      if (i % 2 === 0) {
        const co = Coroutine.create(function* () {
          yield* m.lock();
          order.push(i);
          m.unlock();
        });
        co.enter();
        promises.push(co.promise);
      } else {
        // lock() queues at call time, so arrival order is call order.
        const w = m.lock();
        promises.push(
          (async () => {
            await w;
            order.push(i);
            m.unlock();
          })(),
        );
      }
    }
    m.unlock();
    await Promise.all(promises);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(m.locked).toBe(false);
  });

  it('a lock() taken outside a coroutine can be waited for with yield* inside one', async () => {
    const m = new CoMutex();
    const log: string[] = [];
    expect(m.tryLock()).toBe(true);
    const w = m.lock(); // an async caller's request: a promise
    const later = m.lock();
    const co = Coroutine.create(function* () {
      yield* w;
      log.push('co has it');
      m.unlock();
    });
    co.enter();
    expect(co.done).toBe(false);
    m.unlock();
    await settle();
    expect(log).toEqual(['co has it']);
    expect(co.done).toBe(true);
    await later; // FIFO: the request after w got the lock from the coroutine
    expect(m.locked).toBe(true);
    m.unlock();
    expect(m.locked).toBe(false);
  });

  it('a coroutine cancelled while it waits with yield* for an async lock() passes the grant on', async () => {
    const m = new CoMutex();
    for (const cancelAfterUnlock of [false, true]) {
      const { co, later, nextHasIt } = lightWaiterInCoroutine(m);
      co.enter();
      if (cancelAfterUnlock) {
        m.unlock(); // w is granted; its coroutine has not seen it yet
        co.cancel();
      } else {
        co.cancel();
        m.unlock();
      }
      await settle();
      expect(nextHasIt()).toBe(true);
      await later;
      expect(m.locked).toBe(true);
      m.unlock();
      expect(m.locked).toBe(false);
    }
  });

  it('a coroutine granted an async lock() while already due to run gives it back when cancelled', async () => {
    const ctx = new AioContext({ name: 'light-handoff' });
    try {
      const m = new CoMutex();
      const { co, later, nextHasIt } = lightWaiterInCoroutine(m);
      ctx.coEnter(co);
      while (ctx.poll(false)); // co now waits for w
      expect(co.done).toBe(false);
      ctx.coSchedule(co); // due to run in ctx: the grant must not enter it a second time
      m.unlock();
      await settle();
      expect(nextHasIt()).toBe(false);
      co.cancel(); // granted, never ran with it: the lock moves on
      while (ctx.poll(false));
      await settle();
      expect(nextHasIt()).toBe(true);
      await later;
      m.unlock();
      expect(m.locked).toBe(false);
    } finally {
      ctx.close();
    }
  });

  it('a second coroutine waiting for the same async lock() fails; the first gets the lock', async () => {
    const m = new CoMutex();
    expect(m.tryLock()).toBe(true);
    const w = m.lock();
    const log: string[] = [];
    const a = Coroutine.create(function* () {
      yield* w;
      log.push('a has it');
    });
    const b = Coroutine.create(function* () {
      try {
        yield* w;
        log.push('b has it');
      } catch (e) {
        log.push((e as { code?: string }).code ?? String(e));
      }
    });
    a.enter();
    b.enter();
    m.unlock();
    await settle();
    expect(log).toEqual(['ERR_AIO_COROUTINE', 'a has it']);
    expect(m.locked).toBe(true);
    m.unlock();
  });

  it('a coroutine whose context closed while it waited for an async lock() is cancelled; the lock moves on', async () => {
    const ctx = new AioContext({ name: 'closes-while-waiting' });
    const m = new CoMutex();
    const { co, later, nextHasIt } = lightWaiterInCoroutine(m);
    ctx.coEnter(co);
    while (ctx.poll(false));
    ctx.close();
    const failed = co.promise.then(
      () => 'resolved',
      (e: { code?: string }) => e.code,
    );
    m.unlock(); // the grant cannot enter co in its closed context
    await settle();
    expect(await failed).toBe('ERR_AIO_CLOSED');
    expect(nextHasIt()).toBe(true);
    await later;
    m.unlock();
    expect(m.locked).toBe(false);
  });

  it('waiters that give up do not stay in the queue: order kept, mutex shareable after', async () => {
    const m = new CoMutex();
    expect(m.tryLock()).toBe(true);
    const order: number[] = [];
    const live: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 100 === 50) {
        live.push(
          (async () => {
            await m.lock();
            order.push(i);
            m.unlock();
          })(),
        );
      } else {
        const ac = new AbortController();
        const w = Promise.resolve(m.lock(ac.signal));
        ac.abort('timed out');
        await expect(w).rejects.toBe('timed out');
      }
    }
    m.unlock();
    await Promise.all(live);
    expect(order).toEqual([50, 150, 250, 350, 450, 550, 650, 750, 850, 950]);
    expect(m.locked).toBe(false);
    // Every waiter that gave up is gone: the mutex has nobody queued, so it can be shared.
    expect(m.tryLock()).toBe(true);
    for (let i = 0; i < 100; i++) {
      const ac = new AbortController();
      const w = Promise.resolve(m.lock(ac.signal));
      ac.abort();
      await expect(w).rejects.toBeDefined();
    }
    expect(() => m.handle).not.toThrow();
    m.unlock();
    expect(m.locked).toBe(false);
  });

  it('a woken coroutine runs when the unlocking coroutine yields (wake-at-next-yield)', () => {
    const m = new CoMutex();
    const log: string[] = [];
    const holder = Coroutine.create(function* () {
      yield* m.lock();
      yield;
      m.unlock();
      log.push('holder unlocked');
      yield;
      log.push('holder done');
    });
    const waiter = Coroutine.create(function* () {
      yield* m.lock();
      log.push('waiter has it');
      m.unlock();
    });
    holder.enter();
    waiter.enter();
    holder.enter();
    expect(log).toEqual(['holder unlocked', 'waiter has it']);
    holder.enter();
    expect(log).toEqual(['holder unlocked', 'waiter has it', 'holder done']);
  });

  it('an aborted signal removes a queued async waiter; the lock goes to the next', async () => {
    const m = new CoMutex();
    expect(m.tryLock()).toBe(true);
    const ac = new AbortController();
    const cancelled = Promise.resolve(m.lock(ac.signal));
    const next = m.lock();
    const reason = new Error('gave up');
    ac.abort(reason);
    await expect(cancelled).rejects.toBe(reason);
    m.unlock();
    await next;
    expect(m.locked).toBe(true);
    m.unlock();
    expect(m.locked).toBe(false);
  });

  it('an aborted signal throws inside a queued coroutine and frees its place', async () => {
    const m = new CoMutex();
    expect(m.tryLock()).toBe(true);
    const ac = new AbortController();
    let caught: unknown;
    const co = Coroutine.create(function* () {
      try {
        yield* m.lock(ac.signal);
      } catch (e) {
        caught = e;
      }
    });
    co.enter();
    ac.abort('stop');
    expect(caught).toBe('stop');
    expect(co.done).toBe(true);
    m.unlock();
    expect(m.locked).toBe(false);
  });

  it('an already aborted signal fails without touching the mutex', async () => {
    const m = new CoMutex();
    await expect(Promise.resolve(m.lock(AbortSignal.abort('early')))).rejects.toBe('early');
    expect(m.locked).toBe(false);
  });

  it('a signal that fires after the hand-off is too late: the waiter holds the lock', async () => {
    const m = new CoMutex();
    expect(m.tryLock()).toBe(true);
    const ac = new AbortController();
    const w = m.lock(ac.signal);
    m.unlock(); // granted now
    ac.abort();
    await w;
    expect(m.locked).toBe(true);
    m.unlock();
  });

  it('cancelling a queued coroutine removes it from the FIFO and runs its finally blocks', () => {
    const m = new CoMutex();
    const log: string[] = [];
    expect(m.tryLock()).toBe(true);
    const a = Coroutine.create(function* () {
      try {
        yield* m.lock();
        log.push('a locked');
      } finally {
        log.push('a finally');
      }
    });
    const b = Coroutine.create(function* () {
      yield* m.lock();
      log.push('b locked');
      m.unlock();
    });
    a.enter();
    b.enter();
    a.cancel();
    expect(log).toEqual(['a finally']);
    m.unlock();
    expect(log).toEqual(['a finally', 'b locked']);
    expect(m.locked).toBe(false);
  });

  it('a coroutine cancelled after it was handed the lock passes it on', () => {
    const ctx = new AioContext({ name: 'handoff' });
    try {
      const m = new CoMutex();
      const log: string[] = [];
      expect(m.tryLock()).toBe(true);
      const a = Coroutine.create(function* () {
        yield* m.lock();
        log.push('a locked');
        m.unlock();
      });
      const b = Coroutine.create(function* () {
        yield* m.lock();
        log.push('b locked');
        m.unlock();
      });
      // Both wait in `ctx`.
      ctx.coSchedule(a);
      ctx.coSchedule(b);
      while (ctx.poll(false));
      // Unlocking from outside `ctx` hands the lock to a and schedules a there...
      m.unlock();
      expect(log).toEqual([]);
      // ...but a is cancelled before it runs: the lock must reach b.
      a.cancel();
      expect(m.locked).toBe(true);
      while (ctx.poll(false));
      expect(log).toEqual(['b locked']);
      expect(m.locked).toBe(false);
    } finally {
      ctx.close();
    }
  });

  it('a coroutine hands the lock to a waiter of its own context when it yields, to one of another context through that context', () => {
    const other = new AioContext({ name: 'handoff-elsewhere' });
    try {
      const m = new CoMutex();
      const log: string[] = [];
      const waiter = (name: string) =>
        Coroutine.create(function* () {
          yield* m.lock();
          log.push(`${name} locked in ${AioContext.current().name}`);
          m.unlock();
        });
      const here = waiter('here');
      const there = waiter('there');
      const holder = Coroutine.create(function* () {
        yield* m.lock();
        yield;
        m.unlock(); // to `there`, waiting in `other`: scheduled there
        log.push('holder unlocked');
        yield;
        log.push('holder yielded');
      });
      holder.enter();
      other.coSchedule(there);
      while (other.poll(false)); // `there` queues first
      here.enter(); // then `here`, in the main context
      holder.enter();
      expect(log).toEqual(['holder unlocked']);
      expect(m.locked).toBe(true);
      other.poll(false);
      // `there` ran in its context, and its unlock handed the lock on to `here`.
      expect(log).toEqual(['holder unlocked', 'there locked in handoff-elsewhere']);
      expect(here.done).toBe(false);
      while (AioContext.main().poll(false));
      expect(log).toEqual(['holder unlocked', 'there locked in handoff-elsewhere', `here locked in ${AioContext.main().name}`]);
      // The other way round: from a coroutine of the waiter's own context, the waiter runs
      // when the unlocker yields, before enter() returns.
      log.length = 0;
      const late = waiter('late');
      const holder2 = Coroutine.create(function* () {
        yield* m.lock();
        yield;
        m.unlock();
        log.push('holder2 unlocked');
        yield;
      });
      holder2.enter();
      late.enter();
      holder2.enter();
      expect(log).toEqual(['holder2 unlocked', `late locked in ${AioContext.main().name}`]);
      expect(m.locked).toBe(false);
      holder.enter();
      holder2.enter();
      expect(holder.done && holder2.done).toBe(true);
    } finally {
      other.close();
    }
  });

  it('a hand-off queued on the waker is passed on when the woken coroutine is cancelled first', () => {
    const m = new CoMutex();
    const log: string[] = [];
    const a = Coroutine.create(function* () {
      yield* m.lock();
      log.push('a locked');
      m.unlock();
    });
    const b = Coroutine.create(function* () {
      yield* m.lock();
      log.push('b locked');
      m.unlock();
    });
    const holder = Coroutine.create(function* () {
      yield* m.lock();
      yield;
      m.unlock(); // a is granted and queued to run when holder yields
      // ...but is cancelled before that. cancel() runs a's finally blocks now, like an
      // enter(): a passes the lock to b, and b (woken from a) runs before cancel returns.
      a.cancel();
      log.push('holder goes on');
    });
    holder.enter();
    a.enter();
    b.enter();
    holder.enter();
    expect(log).toEqual(['b locked', 'holder goes on']);
    expect(a.done).toBe(true);
    expect(m.locked).toBe(false);
  });
});

describe('CoRwLock', () => {
  it('readers share; a writer waits for them; readers behind a queued writer wait too', async () => {
    const rw = new CoRwLock();
    const log: string[] = [];
    await rw.rdlock();
    await rw.rdlock();
    expect(rw.owners).toBe(2);
    const writer = (async () => {
      await rw.wrlock();
      log.push('writer');
      rw.unlock();
    })();
    const reader = (async () => {
      await settle();
      await rw.rdlock(); // queued behind the writer (fairness)
      log.push('late reader');
      rw.unlock();
    })();
    await settle();
    await settle();
    expect(log).toEqual([]);
    rw.unlock();
    rw.unlock();
    await writer;
    await reader;
    expect(log).toEqual(['writer', 'late reader']);
    expect(rw.owners).toBe(0);
  });

  it('a cancelled queued writer lets the readers behind it in', async () => {
    const rw = new CoRwLock();
    await rw.rdlock();
    const ac = new AbortController();
    const w = Promise.resolve(rw.wrlock(ac.signal));
    const r = rw.rdlock();
    ac.abort('no');
    await expect(w).rejects.toBe('no');
    await r;
    expect(rw.owners).toBe(2);
    rw.unlock();
    rw.unlock();
    expect(rw.owners).toBe(0);
  });

  it('a cancelled upgrade falls back to a read lock', async () => {
    const rw = new CoRwLock();
    const log: string[] = [];
    const a = Coroutine.create(function* () {
      yield* rw.rdlock();
      try {
        yield* rw.upgrade();
        log.push('upgraded');
      } finally {
        log.push(`finally owners=${rw.owners}`);
        rw.unlock();
      }
    });
    const b = Coroutine.create(function* () {
      yield* rw.rdlock();
      yield;
      rw.unlock();
    });
    b.enter();
    a.enter(); // two readers: a's upgrade queues as a writer
    expect(rw.owners).toBe(1);
    a.cancel();
    // a took a read lock again before its finally ran, then released it.
    expect(log).toEqual(['finally owners=2']);
    b.enter();
    expect(rw.owners).toBe(0);
  });

  it('async upgrade and downgrade', async () => {
    const rw = new CoRwLock();
    await rw.rdlock();
    await rw.upgrade();
    expect(rw.owners).toBe(-1);
    rw.downgrade();
    expect(rw.owners).toBe(1);
    rw.unlock();
    expect(rw.owners).toBe(0);
  });
});

describe('CoQueue', () => {
  it('wait releases the lock and retakes it; next() wakes the oldest waiter', () => {
    const m = new CoMutex();
    const q = new CoQueue();
    const log: string[] = [];
    let ready = false;
    const waiter = (name: string) =>
      Coroutine.create(function* () {
        yield* m.lock();
        while (!ready) yield* q.wait(m);
        log.push(`${name} holds=${m.locked}`);
        m.unlock();
      });
    const w1 = waiter('w1');
    const w2 = waiter('w2');
    w1.enter();
    w2.enter();
    expect(q.empty()).toBe(false);
    expect(m.locked).toBe(false);
    const signaller = Coroutine.create(function* () {
      yield* m.lock();
      ready = true;
      expect(q.next()).toBe(true); // w1 runs when we yield; it queues on the mutex
      m.unlock();
      log.push('signaller done');
    });
    signaller.enter();
    expect(log).toEqual(['signaller done', 'w1 holds=true']);
    expect(q.next()).toBe(true);
    expect(log).toEqual(['signaller done', 'w1 holds=true', 'w2 holds=true']);
    expect(q.next()).toBe(false);
    expect(q.empty()).toBe(true);
    expect(m.locked).toBe(false);
  });

  it('restartAll wakes everyone waiting now, coroutines and async functions', async () => {
    const q = new CoQueue();
    const woken: string[] = [];
    const co = Coroutine.create(function* () {
      yield* q.wait();
      woken.push('co');
    });
    co.enter();
    const fn = (async () => {
      await q.wait();
      woken.push('async');
    })();
    await settle();
    q.restartAll();
    await fn;
    expect(woken).toEqual(['co', 'async']);
    expect(q.empty()).toBe(true);
  });

  it('a cancelled waiter retakes the lock before its finally blocks run', () => {
    const m = new CoMutex();
    const q = new CoQueue();
    const log: string[] = [];
    const co = Coroutine.create(function* () {
      yield* m.lock();
      try {
        yield* q.wait(m);
      } finally {
        log.push(`finally holds=${m.locked}`);
        m.unlock();
      }
    });
    co.enter();
    expect(m.locked).toBe(false);
    co.cancel();
    expect(log).toEqual(['finally holds=true']);
    expect(q.empty()).toBe(true);
    expect(m.locked).toBe(false);
  });

  it('an async waiter whose signal aborts retakes the lock, then rejects', async () => {
    const m = new CoMutex();
    const q = new CoQueue();
    await m.lock();
    const ac = new AbortController();
    const w = Promise.resolve(q.wait(m, ac.signal));
    expect(m.locked).toBe(false);
    ac.abort('timeout');
    await expect(w).rejects.toBe('timeout');
    expect(m.locked).toBe(true);
    m.unlock();
  });

  it('a woken waiter cancelled before it runs passes the wake-up on', () => {
    const ctx = new AioContext({ name: 'cond' });
    try {
      const q = new CoQueue();
      const woken: string[] = [];
      const mk = (name: string) =>
        Coroutine.create(function* () {
          yield* q.wait();
          woken.push(name);
        });
      const a = mk('a');
      const b = mk('b');
      ctx.coSchedule(a);
      ctx.coSchedule(b);
      while (ctx.poll(false));
      q.next(); // a is woken (scheduled in ctx) ...
      a.cancel(); // ... but cancelled first: b gets the wake-up
      while (ctx.poll(false));
      expect(woken).toEqual(['b']);
      expect(q.empty()).toBe(true);
    } finally {
      ctx.close();
    }
  });
});
