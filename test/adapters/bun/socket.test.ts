/**
 * aio-bun: Bun's own sockets as event sources of a context (bunSocketHandler): data in
 * the handler phase, in order, held back by disableExternal, null at close.
 */
import { AioContext, bunSocketHandler } from 'aio-bun';
import { describe, expect, it } from 'vitest';

declare const Bun: {
  listen(o: unknown): { port: number; stop(force?: boolean): void };
  connect(o: unknown): Promise<{ write(d: string): number; end(): void }>;
};

describe('bunSocketHandler', () => {
  it('delivers socket data in the handler phase and obeys disableExternal', async () => {
    const ctx = new AioContext({ name: 'bun-sockets' });
    const got: (string | null)[] = [];
    const server = Bun.listen({
      hostname: '127.0.0.1',
      port: 0,
      socket: bunSocketHandler(ctx, (_s, data) => got.push(data ? new TextDecoder().decode(data) : null)),
    });
    const client = await Bun.connect({ hostname: '127.0.0.1', port: server.port, socket: { data() {} } });
    client.write('ping');
    while (got.join('') !== 'ping') await ctx.pollAsync();
    ctx.disableExternal();
    client.write('pong');
    await new Promise((r) => setTimeout(r, 50));
    while (ctx.poll(false));
    expect(got.join('')).toBe('ping');
    ctx.enableExternal();
    while (got.join('') !== 'pingpong') await ctx.pollAsync();
    client.end();
    while (!got.includes(null)) await ctx.pollAsync();
    server.stop(true);
    ctx.close();
  });

  it('rejects bad arguments', () => {
    const ctx = new AioContext({ name: 'bun-sockets-bad' });
    expect(() => bunSocketHandler(ctx, 5 as never)).toThrow(/"onData"/);
    expect(() => bunSocketHandler({} as never, () => {})).toThrow(/"ctx"/);
    ctx.close();
  });
});
