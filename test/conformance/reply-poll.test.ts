/**
 * Polling for replies (loop/reply-poll.ts): a context where calls await their replies
 * spins for them before it sleeps, by default up to REPLY_POLL_MAX_NS_DEFAULT; the
 * setting and its checks; every call answered with the spin on or off, whether replies
 * come within the spin or long after it; and a call made while the main context's
 * attached pass sleeps in the host loop (that pass is restarted so that its successor
 * spins).
 */
import { AioContext, IOThread, REPLY_POLL_MAX_NS_DEFAULT } from 'aio-under-test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const moduleUrl = new URL('./workers/iothread-module.mjs', import.meta.url);

/** One turn of the host loop: the main context's attached pass goes to sleep meanwhile. */
const hostTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('reply polling', () => {
  let t: IOThread;
  const main = () => AioContext.main();

  beforeAll(async () => {
    t = await IOThread.create({ name: 'reply-poll', module: moduleUrl });
  });
  afterAll(async () => {
    main().setReplyPollMaxNs(REPLY_POLL_MAX_NS_DEFAULT);
    await t.stop();
  });

  it('is on by default, settable per context, and checks its argument', () => {
    expect(REPLY_POLL_MAX_NS_DEFAULT).toBe(32768);
    expect(main().replyPollMaxNs).toBe(REPLY_POLL_MAX_NS_DEFAULT);
    const ctx = new AioContext({ name: 'no-reply-poll', replyPollMaxNs: 0 });
    expect(ctx.replyPollMaxNs).toBe(0);
    ctx.setReplyPollMaxNs(1000);
    expect(ctx.replyPollMaxNs).toBe(1000);
    for (const bad of [-1, 1.5, Number.NaN, '10', null]) {
      expect(() => ctx.setReplyPollMaxNs(bad as number)).toThrow(/maxNs/);
      expect(ctx.replyPollMaxNs).toBe(1000);
      if (bad !== null) expect(() => new AioContext({ replyPollMaxNs: bad as number })).toThrow(/options\.replyPollMaxNs/);
    }
    ctx.close();
    expect(() => ctx.setReplyPollMaxNs(0)).toThrow(expect.objectContaining({ code: 'ERR_AIO_CLOSED' }));
  });

  for (const maxNs of [0, REPLY_POLL_MAX_NS_DEFAULT, 1_000_000]) {
    it(`every call gets its answer, replies quick and slow (spin up to ${maxNs} ns)`, async () => {
      main().setReplyPollMaxNs(maxNs);
      for (let i = 0; i < 300; i++) expect(await t.call('add', i, 1)).toBe(i + 1);
      // Replies far slower than any spin: the spin gives up and backs off, nothing is lost.
      for (let i = 0; i < 20; i++) expect(await t.call('later', i, 2)).toEqual({ v: i, ms: 2 });
      const many = await Promise.all(Array.from({ length: 2000 }, (_, i) => t.call('echo', i)));
      expect(many.every((v, i) => v === i)).toBe(true);
      // Quick again after slow ones: the back-off ends.
      for (let i = 0; i < 300; i++) expect(await t.call('add', i, 2)).toBe(i + 2);
    });
  }

  it('a call made while the attached main context sleeps in the host loop is answered', async () => {
    main().setReplyPollMaxNs(REPLY_POLL_MAX_NS_DEFAULT);
    for (let i = 0; i < 100; i++) {
      await hostTurn();
      expect(await t.call('add', i, 3)).toBe(i + 3);
    }
    // A reply awaited by nobody but the spin: held in the thread until this thread says so.
    const held = t.call('hold');
    for (let i = 0; i < 20; i++) {
      await hostTurn();
      expect(await t.call('add', i, 4)).toBe(i + 4);
    }
    await t.call('unhold');
    expect(await held).toBe('released');
  });

  it('spin time shows in stats().pollingNs and is bounded by the ceiling per sleep', async () => {
    const ceiling = 200_000;
    main().setReplyPollMaxNs(ceiling);
    const before = main().stats();
    const held = t.call('hold');
    // While the held reply is awaited, each pass that would sleep may spin once: wake the
    // main context a number of times and count its passes.
    for (let i = 0; i < 50; i++) await new Promise<void>((resolve) => main().scheduleOneshot(resolve));
    await t.call('unhold');
    await held;
    const after = main().stats();
    const passes = after.polls - before.polls;
    expect(after.pollingNs - before.pollingNs).toBeLessThanOrEqual(ceiling * passes);
    main().setReplyPollMaxNs(REPLY_POLL_MAX_NS_DEFAULT);
  });
});
