/**
 * QEMU's tests/unit/test-aio.c, entries 1-12, under their QEMU path names. Each drives
 * the context the way the C test drives aio_poll(); `blockingPoll` is aio_poll(ctx, true)
 * (pollAsync on a thread that may not block), `flush` is `while (aio_poll(ctx, false));`.
 */
import { AioContext, type BottomHalf, Clock, EventNotifier, SCALE_NS, SCALE_MS, clockNs } from 'aio-under-test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blockingPoll, flush, sleepThread } from './support/runtime.js';

interface BHTestData {
  bh: BottomHalf | null;
  n: number;
  max: number;
}

interface EventNotifierTestData {
  e: EventNotifier;
  n: number;
  active: number;
  autoSet: boolean;
}

let ctx: AioContext;

beforeEach(() => {
  ctx = new AioContext({ name: 'test-aio' });
  flush(ctx);
});

afterEach(() => {
  ctx.close();
});

function bhTestCb(data: BHTestData): void {
  if (++data.n < data.max) data.bh!.schedule();
}

function bhDeleteCb(data: BHTestData): void {
  if (++data.n < data.max) data.bh!.schedule();
  else {
    data.bh!.delete();
    data.bh = null;
  }
}

function newBh(data: BHTestData, cb: (d: BHTestData) => void): BHTestData {
  data.bh = ctx.bh(() => cb(data), { name: 'bh_test_cb' });
  return data;
}

function eventReadyCb(data: EventNotifierTestData): void {
  expect(data.e.testAndClear()).toBe(true);
  data.n++;
  if (data.active > 0) data.active--;
  if (data.autoSet && data.active) data.e.set();
}

function setEventNotifier(data: EventNotifierTestData, handler: ((d: EventNotifierTestData) => void) | null): void {
  ctx.setEventNotifier(data.e, handler ? () => handler(data) : null);
}

async function waitUntilInactive(data: EventNotifierTestData): Promise<void> {
  let max = 10;
  while (data.active > 0) {
    await blockingPoll(ctx);
    expect(--max).toBeGreaterThan(0);
  }
}

describe('test-aio', () => {
  it('/aio/bh/schedule', async () => {
    const data = newBh({ bh: null, n: 0, max: 0 }, bhTestCb);
    data.bh!.schedule();
    expect(data.n).toBe(0);
    expect(await blockingPoll(ctx)).toBe(true);
    expect(data.n).toBe(1);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(1);
    data.bh!.delete();
  });

  it('/aio/bh/schedule10', async () => {
    const data = newBh({ bh: null, n: 0, max: 10 }, bhTestCb);
    data.bh!.schedule();
    expect(data.n).toBe(0);
    expect(ctx.poll(false)).toBe(true);
    expect(data.n).toBe(1);
    expect(await blockingPoll(ctx)).toBe(true);
    expect(data.n).toBe(2);
    while (data.n < 10) await blockingPoll(ctx);
    expect(data.n).toBe(10);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(10);
    data.bh!.delete();
  });

  it('/aio/bh/cancel', () => {
    const data = newBh({ bh: null, n: 0, max: 0 }, bhTestCb);
    data.bh!.schedule();
    expect(data.n).toBe(0);
    data.bh!.cancel();
    expect(data.n).toBe(0);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(0);
    data.bh!.delete();
  });

  it('/aio/bh/delete', () => {
    const data = newBh({ bh: null, n: 0, max: 0 }, bhTestCb);
    data.bh!.schedule();
    expect(data.n).toBe(0);
    data.bh!.delete();
    expect(data.n).toBe(0);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(0);
  });

  it('/aio/bh/callback-delete/one', async () => {
    const data = newBh({ bh: null, n: 0, max: 1 }, bhDeleteCb);
    data.bh!.schedule();
    expect(data.n).toBe(0);
    while (data.n < 1) await blockingPoll(ctx);
    expect(data.n).toBe(1);
    expect(data.bh).toBe(null);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(1);
  });

  it('/aio/bh/callback-delete/many', async () => {
    const data1 = newBh({ bh: null, n: 0, max: 1 }, bhDeleteCb);
    const data2 = newBh({ bh: null, n: 0, max: 3 }, bhDeleteCb);
    const data3 = newBh({ bh: null, n: 0, max: 2 }, bhDeleteCb);
    const data4 = newBh({ bh: null, n: 0, max: 4 }, bhDeleteCb);
    for (const d of [data1, data2, data3, data4]) d.bh!.schedule();
    for (const d of [data1, data2, data3, data4]) expect(d.n).toBe(0);
    expect(ctx.poll(false)).toBe(true);
    for (const d of [data1, data2, data3, data4]) expect(d.n).toBe(1);
    expect(data1.bh).toBe(null);
    while (data1.n < data1.max || data2.n < data2.max || data3.n < data3.max || data4.n < data4.max) {
      await blockingPoll(ctx);
    }
    expect([data1.n, data2.n, data3.n, data4.n]).toEqual([1, 3, 2, 4]);
    for (const d of [data1, data2, data3, data4]) expect(d.bh).toBe(null);
  });

  it('/aio/bh/flush', async () => {
    const data = newBh({ bh: null, n: 0, max: 0 }, bhTestCb);
    data.bh!.schedule();
    expect(data.n).toBe(0);
    expect(await blockingPoll(ctx)).toBe(true);
    expect(data.n).toBe(1);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(1);
    data.bh!.delete();
  });

  it('/aio/event/add-remove', () => {
    const data: EventNotifierTestData = { e: new EventNotifier(false), n: 0, active: 0, autoSet: false };
    setEventNotifier(data, eventReadyCb);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(0);
    setEventNotifier(data, null);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(0);
  });

  it('/aio/event/wait', () => {
    const data: EventNotifierTestData = { e: new EventNotifier(false), n: 0, active: 1, autoSet: false };
    setEventNotifier(data, eventReadyCb);
    flush(ctx);
    expect(data.n).toBe(0);
    expect(data.active).toBe(1);
    data.e.set();
    expect(ctx.poll(false)).toBe(true);
    expect(data.n).toBe(1);
    expect(data.active).toBe(0);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(1);
    expect(data.active).toBe(0);
    setEventNotifier(data, null);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(1);
  });

  it('/aio/event/wait/no-flush-cb', async () => {
    const data: EventNotifierTestData = { e: new EventNotifier(false), n: 0, active: 0, autoSet: false };
    setEventNotifier(data, eventReadyCb);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(0);
    expect(data.active).toBe(0);
    data.e.set();
    // Must return true without blocking: the notifier is ready.
    expect(await blockingPoll(ctx)).toBe(true);
    data.n = 0;

    const dummy: EventNotifierTestData = { e: new EventNotifier(false), n: 0, active: 1, autoSet: false };
    setEventNotifier(dummy, eventReadyCb);
    data.e.set();
    expect(ctx.poll(false)).toBe(true);
    expect(data.n).toBe(1);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(1);
    data.e.set();
    expect(ctx.poll(false)).toBe(true);
    expect(data.n).toBe(2);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(2);

    dummy.e.set();
    await waitUntilInactive(dummy);
    expect(data.n).toBe(2);
    expect(dummy.n).toBe(1);
    expect(dummy.active).toBe(0);

    setEventNotifier(dummy, null);
    setEventNotifier(data, null);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(2);
  });

  it('/aio/event/flush', async () => {
    const data: EventNotifierTestData = { e: new EventNotifier(false), n: 0, active: 10, autoSet: true };
    setEventNotifier(data, eventReadyCb);
    flush(ctx);
    expect(data.n).toBe(0);
    expect(data.active).toBe(10);
    data.e.set();
    expect(ctx.poll(false)).toBe(true);
    expect(data.n).toBe(1);
    expect(data.active).toBe(9);
    expect(ctx.poll(false)).toBe(true);
    await waitUntilInactive(data);
    expect(data.n).toBe(10);
    expect(data.active).toBe(0);
    expect(ctx.poll(false)).toBe(false);
    setEventNotifier(data, null);
    expect(ctx.poll(false)).toBe(false);
  });

  it('/aio/timer/schedule', async () => {
    const dummy: EventNotifierTestData = { e: new EventNotifier(false), n: 0, active: 0, autoSet: false };
    const data = { n: 0, max: 2, ns: 750 * SCALE_MS, timer: null as null | ReturnType<AioContext['timer']> };
    setEventNotifier(dummy, eventReadyCb);
    data.timer = ctx.timer(Clock.Realtime, SCALE_NS, () => {
      if (++data.n < data.max) data.timer!.mod(clockNs(Clock.Realtime) + data.ns);
    });
    data.timer.mod(clockNs(Clock.Realtime) + data.ns);
    flush(ctx); // timer_mod notified
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(0);

    sleepThread(1000);
    expect(data.n).toBe(0); // timers only run inside poll
    expect(ctx.poll(false)).toBe(true);
    expect(data.n).toBe(1);

    flush(ctx); // timer_mod called by the callback
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(1);

    const before = clockNs(Clock.Realtime);
    expect(await blockingPoll(ctx)).toBe(true);
    expect(clockNs(Clock.Realtime) - before).toBeGreaterThan(600 * SCALE_MS);
    expect(data.n).toBe(2);
    expect(ctx.poll(false)).toBe(false);
    expect(data.n).toBe(2);

    setEventNotifier(dummy, null);
    data.timer.del();
  });
});
