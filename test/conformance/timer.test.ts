/**
 * Timers and clocks: FIFO among equal deadlines, one clock reading per pass, anticipate,
 * the virtual clock, scales, and 100,000 pending timers firing in order.
 */
import { AioContext, Clock, SCALE_MS, SCALE_NS, SCALE_US, clockNs, virtualClock } from 'aio-under-test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flush } from './support/runtime.js';

let ctx: AioContext;
beforeEach(() => {
  ctx = new AioContext({ name: 'timers' });
  virtualClock.enable(false);
});
afterEach(() => {
  virtualClock.enable(false);
  ctx.close();
});

describe('timers', () => {
  it('timers with equal deadlines fire in the order they were armed', () => {
    const order: number[] = [];
    const timers = [0, 1, 2, 3, 4].map((i) => ctx.timer(Clock.Realtime, SCALE_NS, () => order.push(i)));
    for (const i of [3, 1, 4, 0, 2]) timers[i]!.modNs(1000);
    expect(ctx.poll(false)).toBe(true);
    expect(order).toEqual([3, 1, 4, 0, 2]);
  });

  it('re-arming moves a timer behind others with the same deadline', () => {
    const order: string[] = [];
    const a = ctx.timer(Clock.Realtime, SCALE_NS, () => order.push('a'));
    const b = ctx.timer(Clock.Realtime, SCALE_NS, () => order.push('b'));
    a.modNs(5);
    b.modNs(5);
    a.modNs(5);
    ctx.poll(false);
    expect(order).toEqual(['b', 'a']);
  });

  it('pending, del and expireTimeNs', () => {
    const t = ctx.timer(Clock.Realtime, SCALE_US, () => {});
    expect(t.pending()).toBe(false);
    expect(t.expireTimeNs()).toBe(-1);
    t.mod(7);
    expect(t.pending()).toBe(true);
    expect(t.expireTimeNs()).toBe(7000);
    expect(t.expired(6999)).toBe(false);
    expect(t.expired(7000)).toBe(true);
    t.del();
    t.del();
    expect(t.pending()).toBe(false);
    expect(t.expireTimeNs()).toBe(-1);
    t.modNs(-5);
    expect(t.expireTimeNs()).toBe(0); // clamped, as QEMU's MAX(t, 0)
    t.del();
  });

  it('modAnticipate only moves a deadline earlier, or arms an idle timer', () => {
    const t = ctx.timer(Clock.Realtime, SCALE_MS, () => {});
    const far = clockNs(Clock.Realtime) / SCALE_MS + 10_000;
    t.modAnticipate(far);
    expect(t.expireTimeNs()).toBe(far * SCALE_MS);
    t.modAnticipate(far + 5);
    expect(t.expireTimeNs()).toBe(far * SCALE_MS);
    t.modAnticipate(far - 5);
    expect(t.expireTimeNs()).toBe((far - 5) * SCALE_MS);
    t.del();
  });

  it('arming a new earliest timer notifies the context; a later one does not', () => {
    const far = clockNs(Clock.Realtime) + 60_000 * SCALE_MS;
    const a = ctx.timer(Clock.Realtime, SCALE_NS, () => {});
    const b = ctx.timer(Clock.Realtime, SCALE_NS, () => {});
    flush(ctx);
    a.modNs(far);
    expect(ctx.poll(false)).toBe(false); // consumed the notify
    b.modNs(far + 1);
    expect(ctx.poll(false)).toBe(false);
    a.del();
    b.del();
  });

  it('the clock is read once per pass: re-arming at the same reading runs again, later waits', () => {
    virtualClock.enable(true);
    virtualClock.set(virtualClock.now() + 1_000);
    const now = virtualClock.now();
    let n = 0;
    const again = ctx.timer(Clock.Virtual, SCALE_NS, () => {
      if (++n < 3) again.modNs(now); // still due at this pass's reading
    });
    let m = 0;
    const later = ctx.timer(Clock.Virtual, SCALE_NS, () => {
      m++;
      later.modNs(virtualClock.now() + 1); // due only after time moves
    });
    again.modNs(now);
    later.modNs(now);
    ctx.poll(false);
    expect(n).toBe(3);
    expect(m).toBe(1);
    ctx.poll(false);
    expect(m).toBe(1);
    virtualClock.advance(1);
    ctx.poll(false);
    expect(m).toBe(2);
    later.del();
  });

  it('a disabled virtual clock never fires; enabling it does, in the next poll', () => {
    let n = 0;
    const t = ctx.timer(Clock.Virtual, SCALE_MS, () => n++);
    t.mod(virtualClock.now() / SCALE_MS + 5);
    virtualClock.advance(10 * SCALE_MS);
    flush(ctx);
    expect(n).toBe(0);
    expect(t.pending()).toBe(true);
    virtualClock.enable(true);
    expect(n).toBe(0); // moving or enabling time runs nothing by itself
    expect(ctx.poll(false)).toBe(true);
    expect(n).toBe(1);
  });

  it('virtual time only moves forward', () => {
    const now = virtualClock.now();
    expect(() => virtualClock.set(now - 1)).toThrow(RangeError);
    expect(virtualClock.now()).toBe(now);
  });

  it('timers only run inside poll and never early', () => {
    let firedAt = -1;
    const t = ctx.timer(Clock.Realtime, SCALE_NS, () => (firedAt = clockNs(Clock.Realtime)));
    const due = clockNs(Clock.Realtime) + 5 * SCALE_MS;
    t.modNs(due);
    while (firedAt < 0) ctx.poll(false);
    expect(firedAt).toBeGreaterThanOrEqual(due);
  });

  it('the host clock follows wall time', () => {
    expect(Math.abs(clockNs(Clock.Host) / SCALE_MS - Date.now())).toBeLessThan(1000);
  });

  it('100,000 pending timers fire in deadline order, FIFO among equals', () => {
    virtualClock.enable(true);
    const base = virtualClock.now();
    const count = 100_000;
    const fired: number[] = [];
    const deadlines: number[] = [];
    let seed = 12345;
    const timers = [];
    for (let i = 0; i < count; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const d = base + 1 + (seed % 5000);
      deadlines.push(d);
      const t = ctx.timer(Clock.Virtual, SCALE_NS, () => fired.push(i));
      t.modNs(d);
      timers.push(t);
    }
    virtualClock.advance(10_000);
    ctx.poll(false);
    expect(fired.length).toBe(count);
    for (let k = 1; k < count; k++) {
      const a = fired[k - 1]!;
      const b = fired[k]!;
      const ok = deadlines[a]! < deadlines[b]! || (deadlines[a] === deadlines[b] && a < b);
      if (!ok) expect({ k, a, b }).toBe('in order');
    }
  });
});
