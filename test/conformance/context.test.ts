/**
 * AioContext rules beyond QEMU's own unit tests: dispatch order, the progress rule,
 * bottom-half flag semantics, external clients, close(), current()/main(), waitWhile,
 * attach/pollAsync, and the blocking rules of each kind of thread.
 */
import { AioContext, AioError, Clock, EventNotifier, SCALE_MS, clockNs } from 'aio-under-test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blockingPoll, canBlock, flush } from './support/runtime.js';

let ctx: AioContext;
beforeEach(() => {
  ctx = new AioContext({ name: 'rules' });
});
afterEach(() => {
  if (!ctx.closed) ctx.close();
});

describe('poll order and progress', () => {
  it('dispatches bottom halves, then handlers, then timers', () => {
    const order: string[] = [];
    const e = new EventNotifier(true);
    ctx.setEventNotifier(e, () => {
      e.testAndClear();
      order.push('handler');
    });
    const t = ctx.timer(Clock.Realtime, SCALE_MS, () => order.push('timer'));
    t.modNs(0);
    const bh = ctx.bh(() => order.push('bh'));
    bh.schedule();
    expect(ctx.poll(false)).toBe(true);
    expect(order).toEqual(['bh', 'handler', 'timer']);
    bh.delete();
    ctx.setEventNotifier(e, null);
  });

  it('a notify alone is not progress, and is consumed by one poll', async () => {
    flush(ctx);
    ctx.notify();
    expect(await blockingPoll(ctx)).toBe(false);
    expect(ctx.poll(false)).toBe(false);
  });

  it('an idle bottom half runs but is not progress', () => {
    let n = 0;
    const bh = ctx.bh(() => n++);
    bh.scheduleIdle();
    expect(ctx.poll(false)).toBe(false);
    expect(n).toBe(1);
    bh.delete();
  });

  it('a blocking poll with only an idle bottom half pending waits at most about 10 ms', async () => {
    let n = 0;
    const bh = ctx.bh(() => {
      if (++n < 3) bh.scheduleIdle();
    });
    bh.scheduleIdle();
    const start = performance.now();
    while (n < 3) await blockingPoll(ctx);
    expect(performance.now() - start).toBeLessThan(1000);
    bh.delete();
  });

  it('scheduling a pending bottom half again runs it once', () => {
    let n = 0;
    const bh = ctx.bh(() => n++);
    bh.schedule();
    bh.schedule();
    bh.schedule();
    expect(ctx.poll(false)).toBe(true);
    expect(n).toBe(1);
    expect(ctx.poll(false)).toBe(false);
    bh.delete();
  });

  it('a cancelled bottom half can be scheduled again', () => {
    let n = 0;
    const bh = ctx.bh(() => n++);
    bh.schedule();
    bh.cancel();
    bh.schedule();
    expect(ctx.poll(false)).toBe(true);
    expect(n).toBe(1);
    bh.delete();
  });

  it('a oneshot runs once and needs no delete', () => {
    let n = 0;
    ctx.scheduleOneshot(() => n++);
    expect(ctx.poll(false)).toBe(true);
    expect(ctx.poll(false)).toBe(false);
    expect(n).toBe(1);
  });

  it('a BH scheduled from another BH of the same pass runs in the next pass', () => {
    const order: string[] = [];
    const b = ctx.bh(() => order.push('b'));
    const a = ctx.bh(() => {
      order.push('a');
      b.schedule();
    });
    a.schedule();
    ctx.poll(false);
    expect(order).toEqual(['a']);
    ctx.poll(false);
    expect(order).toEqual(['a', 'b']);
    a.delete();
    b.delete();
  });

  it('a nested poll from a bottom half finishes the outer slice', () => {
    const ran: string[] = [];
    let nested = true;
    const others = [ctx.bh(() => ran.push('x')), ctx.bh(() => ran.push('y'))];
    const outer = ctx.bh(() => {
      ran.push('outer');
      if (nested) {
        nested = false;
        ctx.poll(false);
      }
    });
    for (const bh of [...others, outer]) bh.schedule();
    expect(ctx.poll(false)).toBe(true);
    expect(ran.sort()).toEqual(['outer', 'x', 'y']);
    for (const bh of [...others, outer]) bh.delete();
  });

  it('an exception in a callback leaves the remaining BHs for the next poll', () => {
    const ran: string[] = [];
    const boom = ctx.bh(() => {
      throw new Error('boom');
    });
    const other = ctx.bh(() => ran.push('other'));
    other.schedule();
    boom.schedule();
    let threw = 0;
    for (let i = 0; i < 2; i++) {
      try {
        ctx.poll(false);
      } catch {
        threw++;
      }
    }
    expect(threw).toBe(1);
    expect(ran).toEqual(['other']);
    boom.delete();
    other.delete();
  });

  it('deleting or using a deleted BH fails loudly', () => {
    const bh = ctx.bh(() => {});
    bh.delete();
    expect(() => bh.schedule()).toThrow(expect.objectContaining({ code: 'ERR_AIO_BH_DELETED' }));
    expect(() => bh.delete()).toThrow(expect.objectContaining({ code: 'ERR_AIO_BH_DELETED' }));
    expect(bh.deleted).toBe(true);
  });
});

describe('stats', () => {
  it('counts polls, bottom halves, timers and handler dispatches; timing is opt-in', () => {
    const timed = new AioContext({ name: 'timed', timing: true });
    for (const c of [ctx, timed]) {
      const e = new EventNotifier(true);
      c.setEventNotifier(e, (n) => n.testAndClear());
      c.scheduleOneshot(() => {});
      c.timer(Clock.Realtime, SCALE_MS, () => {}).modNs(0);
      flush(c);
      const s = c.stats();
      expect(s.bhRuns).toBe(1);
      expect(s.timersFired).toBe(1);
      expect(s.handlerDispatches).toBe(1);
      expect(s.polls).toBeGreaterThanOrEqual(2);
      c.setEventNotifier(e, null);
    }
    expect(ctx.stats().dispatchingNs).toBe(0);
    expect(timed.stats().dispatchingNs).toBeGreaterThan(0);
    timed.close();
  });
});

describe('external clients', () => {
  it('disableExternal stops external handlers, nests, and enableExternal resumes them', () => {
    const ext = new EventNotifier(false);
    const internal = new EventNotifier(false);
    let extN = 0;
    let intN = 0;
    ctx.setEventNotifier(ext, (e) => {
      e.testAndClear();
      extN++;
    });
    ctx.setEventNotifier(
      internal,
      (e) => {
        e.testAndClear();
        intN++;
      },
      null,
      null,
      { external: false },
    );
    flush(ctx);
    ctx.disableExternal();
    ctx.disableExternal();
    expect(ctx.externalDisabled).toBe(true);
    ext.set();
    internal.set();
    flush(ctx);
    expect([extN, intN]).toEqual([0, 1]);
    ctx.enableExternal();
    flush(ctx);
    expect(extN).toBe(0);
    ctx.enableExternal();
    expect(ctx.externalDisabled).toBe(false);
    expect(ctx.poll(false)).toBe(true);
    expect(extN).toBe(1);
    expect(() => ctx.enableExternal()).toThrow(expect.objectContaining({ code: 'ERR_AIO_UNBALANCED' }));
    ctx.setEventNotifier(ext, null);
    ctx.setEventNotifier(internal, null);
  });

  it('a notifier belongs to one context at a time', () => {
    const other = new AioContext({ name: 'other' });
    const e = new EventNotifier();
    ctx.setEventNotifier(e, () => {});
    expect(() => other.setEventNotifier(e, () => {})).toThrow(expect.objectContaining({ code: 'ERR_AIO_NOTIFIER_BUSY' }));
    ctx.setEventNotifier(e, null);
    other.setEventNotifier(e, () => {});
    other.setEventNotifier(e, null);
    other.close();
  });
});

describe('lifetime', () => {
  it('close() names every leaked BH and leaves the context usable', () => {
    const a = ctx.bh(() => {}, { name: 'first' });
    const b = ctx.bh(function second() {});
    let err: unknown;
    try {
      ctx.close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AioError);
    expect((err as AioError).code).toBe('ERR_AIO_BH_LEAKED');
    expect((err as Error).message).toContain("'first'");
    expect((err as Error).message).toContain("'second'");
    expect(ctx.closed).toBe(false);
    let n = 0;
    ctx.scheduleOneshot(() => n++);
    expect(ctx.poll(false)).toBe(true);
    expect(n).toBe(1);
    a.delete();
    b.delete();
    ctx.close();
    expect(ctx.closed).toBe(true);
  });

  it('close() refuses while timers are pending', () => {
    const t = ctx.timer(Clock.Realtime, SCALE_MS, () => {});
    t.mod(clockNs(Clock.Realtime) / SCALE_MS + 1000);
    expect(() => ctx.close()).toThrow(expect.objectContaining({ code: 'ERR_AIO_TIMERS_PENDING' }));
    t.del();
    ctx.close();
  });

  it('a closed context rejects use with ERR_AIO_CLOSED', () => {
    ctx.close();
    expect(() => ctx.poll(false)).toThrow(expect.objectContaining({ code: 'ERR_AIO_CLOSED' }));
    expect(() => ctx.bh(() => {})).toThrow(expect.objectContaining({ code: 'ERR_AIO_CLOSED' }));
    expect(() => ctx.scheduleOneshot(() => {})).toThrow(expect.objectContaining({ code: 'ERR_AIO_CLOSED' }));
    ctx.close(); // idempotent
  });

  it('Symbol.dispose closes the context', () => {
    let closed: AioContext;
    {
      using c = new AioContext({ name: 'disposable' });
      closed = c;
    }
    expect(closed.closed).toBe(true);
  });
});

describe('current() and main()', () => {
  it('current() is the dispatching context, else main()', () => {
    const main = AioContext.main();
    expect(AioContext.main()).toBe(main);
    expect(AioContext.current()).toBe(main);
    let seen: AioContext | null = null;
    ctx.scheduleOneshot(() => {
      seen = AioContext.current();
    });
    ctx.poll(false);
    expect(seen).toBe(ctx);
    expect(AioContext.current()).toBe(main);
  });
});

describe('waiting', () => {
  it('waitWhile polls until the condition clears and reports whether it polled', () => {
    let done = false;
    expect(ctx.waitWhile(() => done)).toBe(false);
    if (!canBlock) return;
    let n = 0;
    const bh = ctx.bh(() => {
      if (++n === 3) done = true;
      else bh.schedule();
    });
    bh.schedule();
    expect(ctx.waitWhile(() => !done)).toBe(true);
    expect(n).toBe(3);
    bh.delete();
  });

  it('a BH scheduled while the context dispatches keeps the next blocking poll awake', async () => {
    // Scheduling during a dispatch skips the wake-up (the next poll looks at its BHs
    // before it sleeps); a guard timer shows whether that poll slept instead.
    let guardFired = false;
    const guard = ctx.timer(Clock.Realtime, SCALE_MS, () => (guardFired = true));
    guard.mod(clockNs(Clock.Realtime) / SCALE_MS + 2000);
    let second = false;
    const later = ctx.bh(() => (second = true));
    const first = ctx.bh(() => later.schedule());
    first.schedule();
    expect(ctx.poll(false)).toBe(true);
    expect(second).toBe(false);
    expect(await blockingPoll(ctx)).toBe(true);
    expect(second).toBe(true);
    expect(guardFired).toBe(false);
    guard.del();
    first.delete();
    later.delete();
  });

  it('waitWhileAsync waits for work that arrives from a host task', async () => {
    let done = false;
    const bh = ctx.bh(() => {
      done = true;
    });
    setTimeout(() => bh.schedule(), 20);
    expect(await ctx.waitWhileAsync(() => !done)).toBe(true);
    bh.delete();
  });

  it('pollAsync sleeps until the next timer deadline', async () => {
    let fired = 0;
    const t = ctx.timer(Clock.Realtime, SCALE_MS, () => fired++);
    flush(ctx);
    const start = clockNs(Clock.Realtime);
    t.modNs(start + 30 * SCALE_MS);
    flush(ctx);
    while (fired === 0) await ctx.pollAsync();
    expect(clockNs(Clock.Realtime) - start).toBeGreaterThanOrEqual(29 * SCALE_MS);
  });

  it('a blocking poll sleeps until the earliest deadline', async () => {
    let fired = 0;
    const t = ctx.timer(Clock.Realtime, SCALE_MS, () => fired++);
    const start = clockNs(Clock.Realtime);
    t.modNs(start + 40 * SCALE_MS);
    flush(ctx);
    expect(await blockingPoll(ctx)).toBe(true);
    expect(fired).toBe(1);
    expect(clockNs(Clock.Realtime) - start).toBeGreaterThanOrEqual(39 * SCALE_MS);
  });

  it('poll(true) blocks where the thread may block, and throws ERR_AIO_CANNOT_BLOCK where it may not', async () => {
    let n = 0;
    ctx.scheduleOneshot(() => n++);
    if (canBlock) {
      expect(ctx.poll(true)).toBe(true);
      expect(n).toBe(1);
    } else {
      expect(() => ctx.poll(true)).toThrow(expect.objectContaining({ code: 'ERR_AIO_CANNOT_BLOCK' }));
      expect(n).toBe(0); // state unchanged
      expect(await ctx.pollAsync()).toBe(true);
      expect(n).toBe(1);
    }
  });

  it('attach() runs the context inside the host loop until detach()', async () => {
    const ran: number[] = [];
    ctx.attach();
    await new Promise<void>((resolve) => {
      ctx.scheduleOneshot(() => ran.push(1));
      const t = ctx.timer(Clock.Realtime, SCALE_MS, () => {
        ran.push(2);
        resolve();
      });
      t.mod(clockNs(Clock.Realtime) / SCALE_MS + 5);
    });
    expect(ran).toEqual([1, 2]);
    ctx.detach();
    expect(ctx.attached).toBe(false);
  });
});
