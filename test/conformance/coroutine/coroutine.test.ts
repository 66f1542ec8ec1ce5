/**
 * Coroutine rules beyond QEMU's unit tests: the wake-at-next-yield order, coSchedule
 * order and misuse errors, wake(), sleep on the virtual clock, awaitPromise, cancellation,
 * and argument checks. Nothing here blocks the thread: contexts are driven with
 * poll(false).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AioContext, AioError, Clock } from 'aio-under-test';
import { virtualClock } from 'aio-under-test';
import { CoMutex, CoQueue, CoRwLock, Coroutine, awaitPromise, sleep } from 'aio-under-test';

let ctx: AioContext;
beforeEach(() => {
  ctx = new AioContext({ name: 'co-test' });
});
afterEach(() => {
  virtualClock.enable(false);
  if (!ctx.closed) ctx.close();
});

function flush(c: AioContext): void {
  while (c.poll(false));
}

function coroutineError(re: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof AioError && e.code === 'ERR_AIO_COROUTINE' && re.test(e.message);
}

function expectThrowsCoroutine(fn: () => unknown, re: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected an ERR_AIO_COROUTINE error matching ${re}`).toBeInstanceOf(AioError);
  expect((caught as AioError).code).toBe('ERR_AIO_COROUTINE');
  expect((caught as AioError).message).toMatch(re);
}

/** Runs `co` once inside `ctx` (scheduled there, then one poll). */
function enterIn(c: AioContext, co: Coroutine<unknown>): void {
  c.coSchedule(co);
  flush(c);
}

describe('wake-at-next-yield', () => {
  it('a coroutine woken from a coroutine runs when the waker yields, before enter() returns', () => {
    const log: string[] = [];
    const b = Coroutine.create(function* () {
      log.push('b');
    });
    const a = Coroutine.create(function* () {
      log.push('a1');
      AioContext.current().coEnter(b);
      log.push('a2');
      yield;
      log.push('a3');
    });
    a.enter();
    expect(log).toEqual(['a1', 'a2', 'b']);
    expect(b.done).toBe(true);
    a.enter();
    expect(log).toEqual(['a1', 'a2', 'b', 'a3']);
  });

  it('queued coroutines run depth-first', () => {
    const log: string[] = [];
    const d = Coroutine.create(function* () {
      log.push('d');
    });
    const c = Coroutine.create(function* () {
      log.push('c');
    });
    const b = Coroutine.create(function* () {
      log.push('b');
      AioContext.current().coEnter(d);
    });
    const a = Coroutine.create(function* () {
      const here = AioContext.current();
      here.coEnter(b);
      here.coEnter(c);
      log.push('a');
    });
    a.enter();
    // b's own wake-up (d) runs before c, which a queued earlier.
    expect(log).toEqual(['a', 'b', 'd', 'c']);
  });

  it('a wake-up queue of several runs in wake order, each one followed by its own queue; a cancelled entry is skipped', () => {
    const log: string[] = [];
    const leaf = (name: string) =>
      Coroutine.create(function* () {
        log.push(name);
      });
    const e = leaf('e');
    const f = leaf('f');
    const d = leaf('d');
    const b = Coroutine.create(function* () {
      log.push('b');
      const here = AioContext.current();
      here.coEnter(e);
      here.coEnter(f);
    });
    const c = Coroutine.create(function* () {
      log.push('c: never, cancelled while queued');
      yield;
    });
    const a = Coroutine.create(function* () {
      const here = AioContext.current();
      here.coEnter(b);
      here.coEnter(c);
      here.coEnter(d);
      c.cancel();
      log.push('a');
    });
    c.enter(); // c waits at its yield
    log.length = 0;
    a.enter();
    expect(log).toEqual(['a', 'b', 'e', 'f', 'd']);
    expect(c.done).toBe(true);
    expect([b, d, e, f].every((co) => co.done)).toBe(true);
  });

  it('wake() restarts a coroutine in the context it last ran in', () => {
    const where: AioContext[] = [];
    const co = Coroutine.create(function* () {
      where.push(AioContext.current());
      yield;
      where.push(AioContext.current());
    });
    enterIn(ctx, co);
    expect(where).toEqual([ctx]);
    // From outside `ctx` the wake is a schedule there.
    co.wake();
    expect(where).toEqual([ctx]);
    flush(ctx);
    expect(where).toEqual([ctx, ctx]);
    expect(co.done).toBe(true);
  });

  it('wake() of a coroutine that never ran is an error', () => {
    const co = Coroutine.create(function* () {});
    expectThrowsCoroutine(() => co.wake(), /never run/);
  });

  it('a coroutine cannot coEnter itself, nor be woken twice before it runs', () => {
    const errors: string[] = [];
    const b = Coroutine.create(function* () {});
    const a = Coroutine.create(function* () {
      const self = Coroutine.self()!;
      try {
        AioContext.current().coEnter(self);
      } catch (e) {
        errors.push((e as Error).message);
      }
      AioContext.current().coEnter(b);
      try {
        AioContext.current().coEnter(b);
      } catch (e) {
        errors.push((e as Error).message);
      }
    });
    a.enter();
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/cannot wake itself/);
    expect(errors[1]).toMatch(/already queued/);
    expect(b.done).toBe(true);
  });
});

describe('coSchedule', () => {
  it('enters scheduled coroutines in FIFO order, all in one poll', () => {
    const log: number[] = [];
    const cos = [1, 2, 3, 4].map((n) =>
      Coroutine.create(function* () {
        log.push(n);
      }),
    );
    for (const co of cos) ctx.coSchedule(co);
    expect(log).toEqual([]);
    expect(ctx.poll(false)).toBe(true);
    expect(log).toEqual([1, 2, 3, 4]);
    expect(ctx.poll(false)).toBe(false);
  });

  it('coroutines scheduled while the list runs wait for the next poll', () => {
    const log: string[] = [];
    const late = Coroutine.create(function* () {
      log.push('late');
    });
    const first = Coroutine.create(function* () {
      log.push('first');
      ctx.coSchedule(late);
    });
    ctx.coSchedule(first);
    expect(ctx.poll(false)).toBe(true);
    expect(log).toEqual(['first']);
    expect(ctx.poll(false)).toBe(true);
    expect(log).toEqual(['first', 'late']);
  });

  it('a scheduled coroutine may run a nested poll that drains the list', () => {
    const log: string[] = [];
    const other = Coroutine.create(function* () {
      log.push('other');
    });
    const first = Coroutine.create(function* () {
      ctx.coSchedule(other);
      ctx.poll(false); // runs co_schedule_bh again, inside its own run
      log.push('first after nested poll');
    });
    ctx.coSchedule(first);
    expect(() => flush(ctx)).not.toThrow();
    expect(log).toEqual(['other', 'first after nested poll']);
    expect(ctx.poll(false)).toBe(false);
  });

  it('a coroutine may schedule itself and yield', () => {
    let n = 0;
    const co = Coroutine.create(function* () {
      for (; n < 3; n++) {
        AioContext.current().coSchedule(Coroutine.self()!);
        yield;
      }
    });
    enterIn(ctx, co);
    expect(n).toBe(3);
    expect(co.done).toBe(true);
  });

  it('double scheduling and entering a scheduled coroutine throw "already scheduled"', () => {
    const co = Coroutine.create(function* () {});
    ctx.coSchedule(co);
    expectThrowsCoroutine(() => ctx.coSchedule(co), /already scheduled/);
    expectThrowsCoroutine(() => co.enter(), /already scheduled/);
    flush(ctx);
    expect(co.done).toBe(true);
  });

  it('leaves nothing behind: the context closes cleanly afterwards', () => {
    ctx.coSchedule(Coroutine.create(function* () {}));
    flush(ctx);
    expect(() => ctx.close()).not.toThrow();
  });
});

describe('misuse', () => {
  it('entering a running coroutine: "re-entered recursively"', () => {
    let caught: unknown;
    const co = Coroutine.create(function* () {
      try {
        Coroutine.self()!.enter();
      } catch (e) {
        caught = e;
      }
    });
    co.enter();
    expect(coroutineError(/re-entered recursively/)(caught)).toBe(true);
  });

  it('entering the caller of a nested coroutine: "re-entered recursively"', () => {
    let caught: unknown;
    const outer = Coroutine.create(function* () {
      const me = Coroutine.self()!;
      Coroutine.create(function* () {
        try {
          me.enter();
        } catch (e) {
          caught = e;
        }
      }).enter();
    });
    outer.enter();
    expect(coroutineError(/re-entered recursively/)(caught)).toBe(true);
  });

  it('entering a terminated coroutine', () => {
    const co = Coroutine.create(function* () {});
    co.enter();
    expectThrowsCoroutine(() => co.enter(), /terminated/);
  });

  it('yielding outside a coroutine', () => {
    expectThrowsCoroutine(() => sleep(Clock.Virtual, 1).next(), /yielding outside/);
    expectThrowsCoroutine(() => awaitPromise(Promise.resolve(1)).next(), /yielding outside/);
    const m = new CoMutex();
    expect(m.tryLock()).toBe(true);
    const w = m.lock();
    expectThrowsCoroutine(() => w[Symbol.iterator]().next(), /CoMutex\.lock\(\): yielding outside/);
    // The request is still queued (nothing consumed it) and can be awaited.
    m.unlock();
    expect(m.locked).toBe(true);
    m.unlock();
  });

  it('yielding a promise throws into the body instead of hanging', async () => {
    const co = Coroutine.create(function* () {
      yield Promise.resolve(1);
    });
    co.enter();
    expect(co.done).toBe(true);
    await expect(co.promise).rejects.toSatisfy(coroutineError(/yielded a promise-like value/));
  });

  it('a body that throws rejects its promise; one that returns resolves it', async () => {
    const bad = Coroutine.create(function* (): Generator<unknown, number, unknown> {
      throw new Error('boom');
    });
    const p = bad.promise;
    bad.enter();
    await expect(p).rejects.toThrow('boom');
    const good = Coroutine.create(function* (x: number) {
      yield;
      return x * 2;
    }, 21);
    good.enter();
    good.enter();
    await expect(good.promise).resolves.toBe(42);
  });
});

describe('sleep', () => {
  it('sleeps on Clock.Virtual and resumes in its context when the time has come', () => {
    virtualClock.enable(true);
    const log: string[] = [];
    let resumedIn: AioContext | null = null;
    const co = Coroutine.create(function* () {
      log.push('sleeping');
      yield* sleep(Clock.Virtual, 1000);
      resumedIn = AioContext.current();
      log.push('awake');
    });
    enterIn(ctx, co);
    expect(log).toEqual(['sleeping']);
    expectThrowsCoroutine(() => co.enter(), /already scheduled in 'sleep\(\)'/);
    virtualClock.advance(999);
    flush(ctx);
    expect(log).toEqual(['sleeping']);
    virtualClock.advance(1);
    expect(ctx.poll(false)).toBe(true);
    expect(log).toEqual(['sleeping', 'awake']);
    expect(resumedIn).toBe(ctx);
    expect(co.done).toBe(true);
  });

  it('a disabled virtual clock never wakes the sleeper', () => {
    const co = Coroutine.create(function* () {
      yield* sleep(Clock.Virtual, 10);
    });
    enterIn(ctx, co);
    virtualClock.advance(100);
    flush(ctx);
    expect(co.done).toBe(false);
    co.cancel();
    expect(co.done).toBe(true);
  });
});

describe('awaitPromise', () => {
  it('resumes the coroutine in its own context with the value', async () => {
    let resolveIt!: (v: number) => void;
    const p = new Promise<number>((r) => (resolveIt = r));
    let got: number | null = null;
    let resumedIn: AioContext | null = null;
    const co = Coroutine.create(function* () {
      got = yield* awaitPromise(p);
      resumedIn = AioContext.current();
    });
    enterIn(ctx, co);
    expect(co.done).toBe(false);
    resolveIt(7);
    await p;
    await Promise.resolve();
    // Settled, but it runs only in its context's poll.
    expect(got).toBe(null);
    expect(ctx.poll(false)).toBe(true);
    expect(got).toBe(7);
    expect(resumedIn).toBe(ctx);
  });

  it('throws the rejection reason inside the coroutine', async () => {
    let caught: unknown;
    const co = Coroutine.create(function* () {
      try {
        yield* awaitPromise(Promise.reject(new Error('nope')));
      } catch (e) {
        caught = e;
      }
    });
    enterIn(ctx, co);
    while (!co.done) await ctx.pollAsync();
    expect((caught as Error).message).toBe('nope');
  });
});

describe('cancel', () => {
  it('runs finally blocks of a sleeping coroutine, deletes its timer, rejects its promise', async () => {
    virtualClock.enable(true);
    const log: string[] = [];
    const co = Coroutine.create(function* () {
      try {
        yield* sleep(Clock.Virtual, 1e9);
        log.push('not reached');
      } finally {
        log.push('finally');
      }
    });
    const p = co.promise;
    enterIn(ctx, co);
    const reason = new Error('stop');
    co.cancel(reason);
    expect(log).toEqual(['finally']);
    expect(co.done).toBe(true);
    await expect(p).rejects.toBe(reason);
    // The sleep timer is gone, so the context closes without ERR_AIO_TIMERS_PENDING.
    expect(() => ctx.close()).not.toThrow();
  });

  it('a scheduled coroutine that is cancelled is not entered by the schedule', () => {
    let bodyRan = false;
    const co = Coroutine.create(function* () {
      bodyRan = true;
    });
    ctx.coSchedule(co);
    co.cancel();
    flush(ctx);
    expect(bodyRan).toBe(false);
    expect(co.done).toBe(true);
  });

  it('a coroutine cancelled while running stops at its next yield', async () => {
    const log: string[] = [];
    const co = Coroutine.create(function* () {
      try {
        Coroutine.self()!.cancel('because');
        log.push('still running');
        yield;
        log.push('not reached');
      } finally {
        log.push('finally');
      }
    });
    co.enter();
    expect(log).toEqual(['still running', 'finally']);
    await expect(co.promise).rejects.toBe('because');
  });

  it('an awaitPromise that settles after cancel does not resume the coroutine', async () => {
    let resolveIt!: () => void;
    const p = new Promise<void>((r) => (resolveIt = r));
    const co = Coroutine.create(function* () {
      yield* awaitPromise(p);
    });
    enterIn(ctx, co);
    co.cancel();
    resolveIt();
    await p;
    await Promise.resolve();
    flush(ctx);
    expect(co.done).toBe(true);
    await expect(co.promise).rejects.toSatisfy(coroutineError(/cancelled/));
  });

  it('cancelOn(signal): an abort cancels a waiting coroutine, its finally blocks run, the lock moves on', async () => {
    const m = new CoMutex();
    expect(m.tryLock()).toBe(true);
    const ac = new AbortController();
    const log: string[] = [];
    const co = Coroutine.create(function* () {
      try {
        yield* m.lock();
        log.push('not reached');
      } finally {
        log.push('finally');
      }
    }).cancelOn(ac.signal);
    enterIn(ctx, co);
    const next = Promise.resolve(m.lock());
    const reason = new Error('user pressed stop');
    ac.abort(reason);
    expect(log).toEqual(['finally']);
    expect(co.done).toBe(true);
    await expect(co.promise).rejects.toBe(reason);
    m.unlock();
    await next; // co left the queue: the next request gets the lock
    expect(m.locked).toBe(true);
    m.unlock();
  });

  it('cancelOn(signal) with an aborted signal cancels at once; aborting from inside stops at the next yield', async () => {
    let ran = false;
    const early = Coroutine.create(function* () {
      ran = true;
    }).cancelOn(AbortSignal.abort('early'));
    expect(early.done).toBe(true);
    expect(ran).toBe(false);
    await expect(early.promise).rejects.toBe('early');

    const ac = new AbortController();
    const log: string[] = [];
    const co = Coroutine.create(function* () {
      try {
        ac.abort('from inside');
        log.push('still running');
        yield;
        log.push('not reached');
      } finally {
        log.push('finally');
      }
    }).cancelOn(ac.signal);
    co.enter();
    expect(log).toEqual(['still running', 'finally']);
    await expect(co.promise).rejects.toBe('from inside');
  });

  it('cancelOn(signal) lets go of its signals when the coroutine ends', async () => {
    const listening = new Set<() => void>();
    const signal = {
      aborted: false,
      reason: undefined,
      addEventListener: (_type: 'abort', l: () => void) => void listening.add(l),
      removeEventListener: (_type: 'abort', l: () => void) => void listening.delete(l),
    };
    const co = Coroutine.create(function* () {
      yield;
      return 7;
    })
      .cancelOn(signal)
      .cancelOn(signal);
    co.enter();
    expect(listening.size).toBe(2);
    co.enter();
    expect(listening.size).toBe(0);
    await expect(co.promise).resolves.toBe(7);
    // Ended: a late cancelOn() attaches nothing.
    co.cancelOn(signal);
    expect(listening.size).toBe(0);
  });

  it('cancel of a never-entered coroutine does not run its body', async () => {
    let ran = false;
    const co = Coroutine.create(function* () {
      ran = true;
    });
    co.cancel(1);
    expect(ran).toBe(false);
    await expect(co.promise).rejects.toBe(1);
  });
});

describe('bad input', () => {
  it('names the argument', () => {
    const co = Coroutine.create(function* () {});
    expect(() => Coroutine.create(42 as never)).toThrow(/"fn"/);
    expect(() => Coroutine.create((() => 5) as never)).toThrow(/"fn" argument must be a generator function/);
    expect(() => ctx.coSchedule({} as never)).toThrow(/"co"/);
    expect(() => ctx.coEnter('x' as never)).toThrow(/"co"/);
    expect(() => sleep('bogus' as never, 1)).toThrow(/"clock"/);
    expect(() => sleep(Clock.Virtual, -1)).toThrow(/"ns"/);
    expect(() => sleep(Clock.Virtual, Number.NaN)).toThrow(/"ns"/);
    expect(() => awaitPromise(5 as never)).toThrow(/"p"/);
    expect(() => co.cancelOn(undefined as never)).toThrow(/"signal"/);
    expect(() => co.cancelOn({} as never)).toThrow(/"signal"/);
    expect(co.done).toBe(false);
    const m = new CoMutex();
    expect(() => m.lock('x' as never)).toThrow(/"signal"/);
    expect(m.locked).toBe(false);
    expect(() => new CoQueue().wait({} as never)).toThrow(/"lock"/);
    expect(() => new CoRwLock().rdlock(1 as never)).toThrow(/"signal"/);
  });

  it('unlocking what is not held throws ERR_AIO_NOT_OWNER', () => {
    const notOwner = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        return (e as AioError).code;
      }
      return 'no error';
    };
    expect(notOwner(() => new CoMutex().unlock())).toBe('ERR_AIO_NOT_OWNER');
    const rw = new CoRwLock();
    expect(notOwner(() => rw.unlock())).toBe('ERR_AIO_NOT_OWNER');
    expect(notOwner(() => rw.downgrade())).toBe('ERR_AIO_NOT_OWNER');
    expect(notOwner(() => rw.upgrade())).toBe('ERR_AIO_NOT_OWNER');
    expect(rw.owners).toBe(0);
  });
});

describe('more edge cases', () => {
  it('waiting with a lock that is not held throws and leaves the queue empty', () => {
    const q = new CoQueue();
    const m = new CoMutex();
    let code = '';
    try {
      q.wait(m);
    } catch (e) {
      code = (e as AioError).code;
    }
    expect(code).toBe('ERR_AIO_NOT_OWNER');
    expect(q.empty()).toBe(true);
  });

  it('a coroutine that cancels itself while a sleep is armed ends cleanly at its yield', async () => {
    virtualClock.enable(true);
    const log: string[] = [];
    const co = Coroutine.create(function* () {
      try {
        Coroutine.self()!.cancel('self');
        yield* sleep(Clock.Virtual, 5);
      } finally {
        log.push('finally');
      }
    });
    enterIn(ctx, co);
    expect(log).toEqual(['finally']);
    await expect(co.promise).rejects.toBe('self');
    virtualClock.advance(10);
    flush(ctx);
    expect(() => ctx.close()).not.toThrow();
  });
});
