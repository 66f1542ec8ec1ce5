/**
 * Fault injection: detach() stops dispatch at once. The attached loop may be asleep in an
 * asynchronous poll when detach() is called; the wake-up that poll gets must not run the
 * work that woke it.
 */
import { AioContext } from 'aio-under-test';
import { describe, expect, it } from 'vitest';

/** Host turns (tasks, not microtasks) for the attached loop's wake-up to be delivered. */
async function hostTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

describe('faults: detach()', () => {
  it('a bottom half scheduled right after detach() waits for the next poll', async () => {
    const ctx = new AioContext({ name: 'detached' });
    let ran = 0;
    const bh = ctx.bh(() => ran++);
    ctx.attach();
    // The attached loop runs a scheduled BH by itself (and is then asleep again).
    bh.schedule();
    await expect.poll(() => ran, { timeout: 10_000 }).toBe(1);
    ctx.detach();
    bh.schedule();
    // The loop's pending wait is woken by this schedule; give it every chance to dispatch.
    await hostTurns(20);
    expect(ran).toBe(1);
    expect(ctx.poll(false)).toBe(true);
    expect(ran).toBe(2);
    bh.delete();
    ctx.close();
  });
});
