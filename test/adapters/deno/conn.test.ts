/**
 * aio-deno: a Deno.Conn as an event source of a context (setConnHandler): data in the
 * handler phase, in order, held back by disableExternal, null when the peer closes.
 */
import { AioContext, setConnHandler } from 'aio-deno';
import { describe, expect, it } from 'vitest';

declare const Deno: {
  listen(o: { hostname: string; port: number }): { addr: { port: number }; accept(): Promise<never>; close(): void };
  connect(o: { hostname: string; port: number }): Promise<{ write(d: Uint8Array): Promise<number>; close(): void }>;
};

describe('setConnHandler', () => {
  it('delivers connection data in the handler phase and obeys disableExternal', async () => {
    const ctx = new AioContext({ name: 'deno-conns' });
    const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
    const client = await Deno.connect({ hostname: '127.0.0.1', port: listener.addr.port });
    const server = await listener.accept();
    const got: (string | null)[] = [];
    setConnHandler(ctx, server, (data) => got.push(data ? new TextDecoder().decode(data) : null));
    await client.write(new TextEncoder().encode('ping'));
    while (got.join('') !== 'ping') await ctx.pollAsync();
    ctx.disableExternal();
    await client.write(new TextEncoder().encode('pong'));
    await new Promise((r) => setTimeout(r, 50));
    while (ctx.poll(false));
    expect(got.join('')).toBe('ping');
    ctx.enableExternal();
    while (got.join('') !== 'pingpong') await ctx.pollAsync();
    client.close();
    while (!got.includes(null)) await ctx.pollAsync();
    listener.close();
    ctx.close();
  });

  it('rejects bad arguments', () => {
    const ctx = new AioContext({ name: 'deno-conns-bad' });
    expect(() => setConnHandler(ctx, {} as never, () => {})).toThrow(/"conn"/);
    expect(() => setConnHandler({} as never, { readable: new ReadableStream<Uint8Array>() }, () => {})).toThrow(/"ctx"/);
    ctx.close();
  });
});
