/**
 * Bad input: every public entry point rejects wrong types and ranges with a TypeError or
 * RangeError whose message names the argument, and leaves the object unchanged.
 */
import { AioContext, BottomHalf, Clock, EventNotifier, SCALE_MS, virtualClock } from 'aio-under-test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let ctx: AioContext;
beforeEach(() => {
  ctx = new AioContext({ name: 'input' });
});
afterEach(() => ctx.close());

function rejects(fn: () => unknown, kind: typeof TypeError | typeof RangeError, arg: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(kind);
  expect((err as Error).message).toContain(`"${arg}"`);
}

describe('argument checks', () => {
  it('AioContext constructor', () => {
    rejects(() => new AioContext({ name: 5 as never }), TypeError, 'options.name');
    rejects(() => new AioContext({ pollMaxNs: -1 }), RangeError, 'options.pollMaxNs');
    rejects(() => new AioContext({ pollGrow: Number.NaN }), TypeError, 'options.pollGrow');
    rejects(() => new AioContext('ctx' as never), TypeError, 'options');
  });

  it('poll, bh, scheduleOneshot, timer', () => {
    rejects(() => ctx.poll('yes' as never), TypeError, 'blocking');
    rejects(() => ctx.bh(42 as never), TypeError, 'cb');
    rejects(() => ctx.bh(() => {}, { name: 1 as never }), TypeError, 'options.name');
    rejects(() => ctx.scheduleOneshot(null as never), TypeError, 'cb');
    rejects(() => ctx.timer('sundial' as never, SCALE_MS, () => {}), RangeError, 'clock');
    rejects(() => ctx.timer(Clock.Realtime, 0, () => {}), RangeError, 'scale');
    rejects(() => ctx.timer(Clock.Realtime, SCALE_MS, 'cb' as never), TypeError, 'cb');
    expect(ctx.poll(false)).toBe(false); // nothing was scheduled by the failed calls
  });

  it('Timer methods leave the timer unchanged', () => {
    const t = ctx.timer(Clock.Realtime, SCALE_MS, () => {});
    t.mod(1e9);
    rejects(() => t.mod(Number.NaN), TypeError, 'expire');
    rejects(() => t.modNs(Number.POSITIVE_INFINITY), RangeError, 'expireNs');
    rejects(() => t.modAnticipate('soon' as never), TypeError, 'expire');
    rejects(() => t.expired('x' as never), TypeError, 'nowNs');
    expect(t.expireTimeNs()).toBe(1e9 * SCALE_MS);
    t.del();
  });

  it('setEventNotifier and setPollParams', () => {
    rejects(() => ctx.setEventNotifier({} as never, () => {}), TypeError, 'e');
    const e = new EventNotifier();
    rejects(() => ctx.setEventNotifier(e, 'cb' as never), TypeError, 'onRead');
    rejects(() => ctx.setEventNotifier(e, () => {}, 3 as never, () => {}), TypeError, 'onPoll');
    rejects(() => ctx.setEventNotifier(e, () => {}, () => true, 3 as never), TypeError, 'onPollReady');
    rejects(() => ctx.setEventNotifier(e, () => {}, null, null, { external: 'yes' as never }), TypeError, 'options.external');
    e.set();
    expect(ctx.poll(false)).toBe(false); // never registered
    ctx.setPollParams({ maxNs: 1000, grow: 2, shrink: 2 });
    rejects(() => ctx.setPollParams({ maxNs: -5 }), RangeError, 'p.maxNs');
    rejects(() => ctx.setPollParams({ maxNs: 1.5 }), RangeError, 'p.maxNs');
    rejects(() => ctx.setPollParams({ maxNs: 10, grow: -1 }), RangeError, 'p.grow');
    rejects(() => ctx.setPollParams(undefined as never), TypeError, 'p');
    expect(ctx.pollParams).toEqual({ maxNs: 1000, grow: 2, shrink: 2 });
  });

  it('waitWhile, clocks, notifiers and handles', () => {
    rejects(() => ctx.waitWhile(true as never), TypeError, 'cond');
    rejects(() => virtualClock.advance(-1), RangeError, 'ns');
    rejects(() => virtualClock.enable(1 as never), TypeError, 'on');
    rejects(() => new EventNotifier('set' as never), TypeError, 'initiallySet');
    expect(() => AioContext.from({ kind: 'nope' } as never)).toThrow(expect.objectContaining({ code: 'ERR_AIO_BAD_HANDLE' }));
    rejects(() => BottomHalf.from(null as never), TypeError, 'handle');
    expect(() => BottomHalf.from({ kind: 'aio.BottomHalf' } as never)).toThrow(expect.objectContaining({ code: 'ERR_AIO_BAD_HANDLE' }));
  });
});
