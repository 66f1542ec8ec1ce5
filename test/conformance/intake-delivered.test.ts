// A record that reaches a context by message (RecordIntake.deliver: an IOThread's port,
// a worker relay) is work from another thread even when no other thread knows the
// context's slot: poll(false) takes it, and a blocking poll runs it instead of returning
// at once forever (pending() says "work now" until the record is taken).
import { describe, expect, it } from 'vitest';
// Through aio-core's entry module, which installs the context's extensions (its intake).
import { AioContext, registerFunction, unregisterFunction } from '../../packages/aio-core/src/index.js';
import { ONESHOT } from '../../packages/aio-core/src/threads/messages.js';
import { intakeOf } from '../../packages/aio-core/src/threads/record-intake.js';

describe('records delivered by message', () => {
  it('run in a context no other thread knows, polled with poll(false)', () => {
    const ctx = new AioContext({ name: 'delivered-to' });
    let hits = 0;
    registerFunction('delivered.hit', () => {
      hits++;
    });
    try {
      while (ctx.poll(false));
      expect(intakeOf(ctx).deliver([ONESHOT, 'delivered.hit', [], -1, 0])).toBe(true);
      expect(ctx.poll(false)).toBe(true);
      expect(hits).toBe(1);
      // Nothing left: a further pass finds no work.
      expect(ctx.poll(false)).toBe(false);
    } finally {
      unregisterFunction('delivered.hit');
      ctx.close();
    }
  });
});
