/**
 * The bridge from host events to a context's handler phase (HostSource, HostQueue,
 * SourceRegistry), which message sources, streams and the adapters' fds and sockets are
 * built on. Events are pushed by the test itself, so every runtime sees the same
 * sequence: delivery only inside a poll, in order, level-triggered, a batch per handler
 * phase, external clients held back, removal and replacement, and argument errors that
 * change nothing.
 */
import { AioContext, HostQueue, HostSource, SourceRegistry } from 'aio-under-test';
import { describe, expect, it } from 'vitest';

/** Polls without blocking until a poll makes no progress. */
function drain(ctx: AioContext): void {
  while (ctx.poll(false));
}

describe('HostQueue', () => {
  it('delivers pushed items only in a poll, in order; what arrives meanwhile waits for the next poll', () => {
    const ctx = new AioContext({ name: 'hq-order' });
    const got: unknown[] = [];
    const q: HostQueue<unknown> = new HostQueue<unknown>(ctx, (item) => {
      got.push(item);
      if (item === 'a') q.push('late');
    });
    q.push('a');
    q.push(undefined);
    q.push(null);
    expect(got).toEqual([]);
    expect(ctx.poll(false)).toBe(true);
    expect(got).toEqual(['a', undefined, null]);
    expect(ctx.poll(false)).toBe(true);
    expect(got).toEqual(['a', undefined, null, 'late']);
    expect(ctx.poll(false)).toBe(false);
    q.remove();
    ctx.close();
  });

  it('a handler that throws leaves the items it did not take for the next poll', () => {
    const ctx = new AioContext({ name: 'hq-throw' });
    const got: number[] = [];
    const q = new HostQueue<number>(ctx, (n) => {
      if (n === 2) throw new Error('two');
      got.push(n);
    });
    for (const n of [1, 2, 3]) q.push(n);
    expect(() => ctx.poll(false)).toThrow('two');
    expect(got).toEqual([1]);
    drain(ctx);
    expect(got).toEqual([1, 3]);
    q.remove();
    ctx.close();
  });

  it('remove() inside a delivery stops the rest, and later pushes are dropped', () => {
    const ctx = new AioContext({ name: 'hq-remove' });
    const got: number[] = [];
    const q: HostQueue<number> = new HostQueue<number>(ctx, (n) => {
      got.push(n);
      q.remove();
    });
    q.push(1);
    q.push(2);
    drain(ctx);
    q.push(3);
    drain(ctx);
    expect(got).toEqual([1]);
    q.remove();
    ctx.close();
  });

  it('is an external client unless options.external is false', () => {
    const ctx = new AioContext({ name: 'hq-external' });
    const external: number[] = [];
    const internal: number[] = [];
    const qe = new HostQueue<number>(ctx, (n) => external.push(n));
    const qi = new HostQueue<number>(ctx, (n) => internal.push(n), { external: false });
    ctx.disableExternal();
    qe.push(1);
    qi.push(1);
    drain(ctx);
    expect(external).toEqual([]);
    expect(internal).toEqual([1]);
    ctx.enableExternal();
    drain(ctx);
    expect(external).toEqual([1]);
    qe.remove();
    qi.remove();
    ctx.close();
  });

  it('rejects bad arguments and a closed context, registering nothing', () => {
    const ctx = new AioContext({ name: 'hq-bad' });
    expect(() => new HostQueue(ctx, 5 as never)).toThrow(/"deliver"/);
    expect(() => new HostQueue({} as never, () => {})).toThrow(/"ctx"/);
    expect(() => new HostQueue(AioContext.from(ctx.handle) as never, () => {})).toThrow(/"ctx"/);
    expect(() => new HostQueue(ctx, () => {}, { external: 1 as never })).toThrow(/"options.external"/);
    expect(ctx.poll(false)).toBe(false);
    ctx.close();
    expect(() => new HostQueue(ctx, () => {})).toThrow(expect.objectContaining({ code: 'ERR_AIO_CLOSED' }));
  });
});

describe('HostSource', () => {
  it('is level-triggered: dispatch runs in every poll while ready, and not for a wake while not ready', () => {
    const ctx = new AioContext({ name: 'hs-level' });
    let buffered = 0;
    let dispatched = 0;
    const s = new HostSource(
      ctx,
      () => buffered > 0,
      () => {
        dispatched++;
        buffered--;
      },
    );
    s.wake();
    drain(ctx);
    expect(dispatched).toBe(0);
    buffered = 3;
    s.wake();
    expect(ctx.poll(false)).toBe(true);
    expect(dispatched).toBe(1);
    drain(ctx);
    expect(dispatched).toBe(3);
    s.remove();
    buffered = 1;
    s.wake();
    drain(ctx);
    expect(dispatched).toBe(3);
    expect(s.removed).toBe(true);
    ctx.close();
  });

  it('remove() after the context closed does nothing', () => {
    const ctx = new AioContext({ name: 'hs-closed' });
    const s = new HostSource(ctx, () => false, () => {});
    ctx.close();
    s.remove();
    expect(s.removed).toBe(true);
  });
});

describe('SourceRegistry', () => {
  it('one source per context and key: setting a key again replaces its source; null removes it', () => {
    const registry = new SourceRegistry<string>('test()');
    const ctx = new AioContext({ name: 'sr-replace' });
    const other = new AioContext({ name: 'sr-other' });
    const removed: string[] = [];
    const source = (name: string) => () => ({ remove: () => removed.push(name) });
    registry.set(ctx, 'k', source('first'));
    registry.set(other, 'k', source('other'));
    registry.set(ctx, 'k', source('second'));
    expect(removed).toEqual(['first']);
    registry.set(ctx, 'k', null);
    expect(removed).toEqual(['first', 'second']);
    registry.set(ctx, 'k', null);
    expect(removed).toEqual(['first', 'second']);
    registry.set(other, 'k', null);
    expect(removed).toEqual(['first', 'second', 'other']);
    ctx.close();
    other.close();
  });

  it('bad options, a non-context or a closed context throw before the old source is removed', async () => {
    const registry = new SourceRegistry<string>('test()');
    const ctx = new AioContext({ name: 'sr-bad' });
    const removed: string[] = [];
    registry.set(ctx, 'k', () => ({ remove: () => removed.push('old') }));
    const make = () => ({ remove() {} });
    expect(() => registry.set(ctx, 'k', make, { external: 'yes' as never })).toThrow(/"options.external"/);
    expect(() => registry.set(ctx, 'k', make, 7 as never)).toThrow(/"options"/);
    expect(() => registry.set(null as never, 'k', make)).toThrow(/"ctx"/);
    expect(removed).toEqual([]);
    // A message source's handler is kept the same way.
    const { port1, port2 } = new MessageChannel();
    const got: unknown[] = [];
    ctx.setMessageHandler(port1, (data) => got.push(data));
    expect(() => ctx.setMessageHandler(port1, () => {}, { external: 0 as never })).toThrow(/"options.external"/);
    port2.postMessage('kept');
    while (got.length === 0) await ctx.pollAsync();
    expect(got).toEqual(['kept']);
    registry.set(ctx, 'k', null);
    expect(removed).toEqual(['old']);
    ctx.setMessageHandler(port1, null);
    port1.close();
    port2.close();
    ctx.close();
    expect(() => registry.set(ctx, 'k', null)).toThrow(expect.objectContaining({ code: 'ERR_AIO_CLOSED' }));
  });
});
