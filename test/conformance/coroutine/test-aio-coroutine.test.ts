/**
 * QEMU's tests/unit/test-aio.c coroutine entries: 13 `/aio/coroutine/queue-chaining`, and
 * the single-thread half of 14 `/aio/coroutine/worker-thread-co-enter` (a caller outside
 * the target context hands the coroutine over with coEnter, and one poll of that context
 * runs it). The cross-thread form waits for cross-thread coroutine scheduling.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AioContext } from 'aio-under-test';
import { Coroutine } from 'aio-under-test';

let ctx: AioContext;
beforeEach(() => {
  ctx = AioContext.main();
  while (ctx.poll(false));
});

interface ChainData {
  i: number;
  max: number;
  other: Coroutine<void> | null;
}

function* chain(data: ChainData): Generator<unknown, void, unknown> {
  for (data.i = 0; data.i < data.max; data.i++) {
    // Queue up the other coroutine...
    ctx.coEnter(data.other!);
    // ...and give control to it.
    yield;
  }
}

describe('test-aio coroutines', () => {
  it('/aio/coroutine/queue-chaining', () => {
    // This many iterations exhausted QEMU's stack before wake-ups were chained.
    const a: ChainData = { i: 0, max: 25000, other: null };
    const b: ChainData = { i: 0, max: 25000, other: null };
    b.other = Coroutine.create(chain, a);
    a.other = Coroutine.create(chain, b);

    b.other.enter();
    expect(a.i).toBe(a.max);
    expect(b.i).toBe(b.max - 1);

    // Allow the second coroutine to terminate.
    a.other.enter();
    expect(b.i).toBe(b.max);
    expect(a.other.done).toBe(true);
    expect(b.other.done).toBe(true);
  });

  describe('/aio/coroutine/worker-thread-co-enter (same thread, another context)', () => {
    let other: AioContext;
    beforeEach(() => {
      other = new AioContext({ name: 'co-enter-target' });
    });
    afterEach(() => {
      other.close();
    });

    it('coEnter from outside the context schedules the coroutine there', () => {
      let ranIn: AioContext | null = null;
      const co = Coroutine.create(function* () {
        ranIn = AioContext.current();
      });
      // The caller is not in `other`: the coroutine is scheduled, not entered.
      other.coEnter(co);
      expect(co.done).toBe(false);
      expect(ranIn).toBe(null);
      expect(other.poll(false)).toBe(true);
      expect(ranIn).toBe(other);
      expect(co.ctx).toBe(other);
      expect(other.poll(false)).toBe(false);
    });
  });
});
