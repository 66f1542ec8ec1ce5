/**
 * EventNotifier and adaptive polling: level-triggered semantics, handles, onPoll /
 * onPollReady, growth and shrink of the polling time, and idle removal after 7 s.
 */
import { AioContext, EventNotifier, createHost, getHost, setHost } from 'aio-under-test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { POLL_START_NS, adjustPollingTime, type Handler } from '../../packages/aio-core/src/loop/handler.js';
import { blockingPoll, flush } from './support/runtime.js';

let ctx: AioContext;
beforeEach(() => {
  ctx = new AioContext({ name: 'notifiers' });
});
afterEach(() => ctx.close());

describe('EventNotifier', () => {
  it('is level-triggered until testAndClear', () => {
    const e = new EventNotifier(true);
    expect(e.isSet()).toBe(true);
    e.set();
    expect(e.testAndClear()).toBe(true);
    expect(e.testAndClear()).toBe(false);
    expect(new EventNotifier().isSet()).toBe(false);
  });

  it('a handler that does not clear its notifier runs on every poll', () => {
    const e = new EventNotifier(true);
    let n = 0;
    ctx.setEventNotifier(e, () => n++);
    expect(ctx.poll(false)).toBe(true);
    expect(ctx.poll(false)).toBe(true);
    expect(n).toBe(2);
    ctx.setEventNotifier(e, null);
  });

  it('shares its state through a handle', () => {
    const e = new EventNotifier();
    const copy = EventNotifier.from(structuredClone(e.handle));
    copy.set();
    expect(e.testAndClear()).toBe(true);
    expect(copy.isSet()).toBe(false);
  });

  it('from() rejects what is not a handle', () => {
    expect(() => EventNotifier.from({} as never)).toThrow(expect.objectContaining({ code: 'ERR_AIO_BAD_HANDLE' }));
  });

  it('replacing a handler keeps one registration', () => {
    const e = new EventNotifier(true);
    const seen: string[] = [];
    ctx.setEventNotifier(e, () => seen.push('old'));
    ctx.setEventNotifier(e, (n) => {
      n.testAndClear();
      seen.push('new');
    });
    flush(ctx);
    expect(seen).toEqual(['new']);
    ctx.setEventNotifier(e, null);
    ctx.setEventNotifier(e, null); // removing twice is a no-op
  });
});

describe('adaptive polling', () => {
  const params = { maxNs: 32_000, grow: 0, shrink: 0 };
  const handler = (pollNs: number) => ({ pollNs }) as Handler;

  it('starts at 4 us, doubles by default, and clamps to maxNs', () => {
    const h = handler(0);
    adjustPollingTime(h, params, 10_000);
    expect(h.pollNs).toBe(POLL_START_NS);
    adjustPollingTime(h, params, 10_000);
    expect(h.pollNs).toBe(8_000);
    adjustPollingTime(h, params, 20_000);
    expect(h.pollNs).toBe(16_000);
    adjustPollingTime(h, params, 31_000);
    expect(h.pollNs).toBe(32_000);
    adjustPollingTime(h, { ...params, grow: 3 }, 31_000);
    expect(h.pollNs).toBe(32_000);
  });

  it('keeps the time when polling covered the wait, shrinks when the wait exceeded maxNs', () => {
    const h = handler(16_000);
    adjustPollingTime(h, params, 10_000);
    expect(h.pollNs).toBe(16_000);
    adjustPollingTime(h, params, 40_000);
    expect(h.pollNs).toBe(0); // shrink 0 drops to zero
    const g = handler(16_000);
    adjustPollingTime(g, { ...params, shrink: 4 }, 40_000);
    expect(g.pollNs).toBe(4_000);
    const k = handler(4_000);
    adjustPollingTime(k, { ...params, grow: 3 }, 20_000);
    expect(k.pollNs).toBe(12_000);
  });

  it('busy polling calls onPoll and dispatches onPollReady without sleeping', async () => {
    ctx.setPollParams({ maxNs: 50_000_000 });
    const e = new EventNotifier(true);
    let reads = 0;
    let polls = 0;
    let work = false;
    let ready = 0;
    ctx.setEventNotifier(
      e,
      (n) => {
        n.testAndClear();
        reads++;
      },
      () => {
        polls++;
        return work;
      },
      () => {
        work = false;
        ready++;
      },
    );
    flush(ctx); // fires through the word: the handler joins the poll list
    expect(reads).toBe(1);
    work = true;
    expect(await blockingPoll(ctx)).toBe(true);
    expect(ready).toBe(1);
    expect(polls).toBeGreaterThan(0);
    ctx.setEventNotifier(e, null);
  });

  it('onPoll without onPollReady is ignored, as in QEMU', () => {
    ctx.setPollParams({ maxNs: 1_000_000 });
    const e = new EventNotifier(true);
    let polls = 0;
    ctx.setEventNotifier(
      e,
      (n) => n.testAndClear(),
      () => {
        polls++;
        return true;
      },
    );
    flush(ctx);
    flush(ctx);
    expect(polls).toBe(0);
    ctx.setEventNotifier(e, null);
  });

  it('a handler idle for 7 s leaves the poll list', async () => {
    const real = getHost();
    let fake = 1e12;
    setHost(createHost({ runtime: 'test-clock', nowNs: () => (fake += 1_000) }));
    try {
      ctx.setPollParams({ maxNs: 20_000 });
      const e = new EventNotifier(true);
      let polls = 0;
      ctx.setEventNotifier(
        e,
        (n) => n.testAndClear(),
        () => {
          polls++;
          return false;
        },
        () => {},
      );
      flush(ctx);
      const t = ctx.timer('realtime', 1, () => {});
      const arm = () => t.modNs(fake + 30_000);
      arm();
      ctx.poll(false);
      arm();
      await blockingPoll(ctx);
      expect(polls).toBeGreaterThan(0);
      fake += 8e9;
      arm();
      await blockingPoll(ctx); // removes the idle handler
      const before = polls;
      arm();
      await blockingPoll(ctx);
      expect(polls).toBe(before);
      t.del();
      ctx.setEventNotifier(e, null);
    } finally {
      setHost(real);
    }
  });
});
