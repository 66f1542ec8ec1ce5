/**
 * Event sources of the runtime: 'message' events (MessagePort here, available on every
 * runtime) as external clients of a context: dispatched in the handler phase, in order,
 * held back while external clients are disabled.
 */
import { AioContext } from 'aio-under-test';
import { describe, expect, it } from 'vitest';

describe('message sources', () => {
  it('messages arrive in the handler phase, in order, and obey disableExternal', async () => {
    const ctx = new AioContext({ name: 'ports' });
    const { port1, port2 } = new MessageChannel();
    const got: unknown[] = [];
    ctx.setMessageHandler(port1, (data) => got.push(data));
    port2.postMessage(1);
    port2.postMessage({ two: 2 });
    while (got.length < 2) await ctx.pollAsync();
    expect(got).toEqual([1, { two: 2 }]);

    ctx.disableExternal();
    port2.postMessage(3);
    await new Promise((r) => setTimeout(r, 30));
    while (ctx.poll(false));
    expect(got.length).toBe(2); // held back
    ctx.enableExternal();
    while (got.length < 3) await ctx.pollAsync();
    expect(got[2]).toBe(3);

    ctx.setMessageHandler(port1, null);
    port2.postMessage(4);
    await new Promise((r) => setTimeout(r, 30));
    while (ctx.poll(false));
    expect(got.length).toBe(3);
    port1.close();
    port2.close();
    ctx.close();
  });

  it('rejects what is not a message source', () => {
    const ctx = new AioContext({ name: 'ports-bad' });
    expect(() => ctx.setMessageHandler({} as never, () => {})).toThrow(/"source"/);
    const { port1 } = new MessageChannel();
    expect(() => ctx.setMessageHandler(port1, 5 as never)).toThrow(/"onMessage"/);
    port1.close();
    ctx.close();
  });
});

describe('stream sources', () => {
  it('chunks arrive in order in the handler phase, then null at the end; disableExternal holds them', async () => {
    const ctx = new AioContext({ name: 'streams' });
    let push!: (v: string) => void;
    let end!: () => void;
    const stream = new ReadableStream<string>({
      start(c) {
        push = (v) => c.enqueue(v);
        end = () => c.close();
      },
    });
    const got: (string | null)[] = [];
    ctx.setStreamHandler(stream, (chunk) => got.push(chunk));
    push('a');
    push('b');
    while (got.length < 2) await ctx.pollAsync();
    expect(got).toEqual(['a', 'b']);
    ctx.disableExternal();
    push('c');
    end();
    await new Promise((r) => setTimeout(r, 30));
    while (ctx.poll(false));
    expect(got).toEqual(['a', 'b']);
    ctx.enableExternal();
    while (got.length < 4) await ctx.pollAsync();
    expect(got).toEqual(['a', 'b', 'c', null]);
    ctx.close();
  });

  it('null stops reading and leaves the stream usable', async () => {
    const ctx = new AioContext({ name: 'streams-stop' });
    let push!: (v: number) => void;
    const stream = new ReadableStream<number>({
      start(c) {
        push = (v) => c.enqueue(v);
      },
    });
    const got: (number | null)[] = [];
    ctx.setStreamHandler(stream, (chunk) => got.push(chunk));
    await new Promise((r) => setTimeout(r, 10));
    ctx.setStreamHandler(stream, null);
    expect(stream.locked).toBe(false);
    push(1);
    const reader = stream.getReader();
    expect((await reader.read()).value).toBe(1);
    while (ctx.poll(false));
    expect(got).toEqual([]);
    expect(() => ctx.setStreamHandler({} as never, () => {})).toThrow(/"stream"/);
    ctx.close();
  });
});
