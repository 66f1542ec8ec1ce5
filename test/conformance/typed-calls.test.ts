/**
 * Typed calls at run time: functions defined with defineFunctions in a thread's module are
 * called by name through IOThread.call, its context's call and scheduleOneshot, and a
 * thread pool's typed view; defineFunctions refuses a map with a non-function, registering
 * none of it. (What the types accept and refuse is checked by test/types/typed-calls.ts.)
 */
import { AioContext, IOThread, defineFunctions } from 'aio-under-test';
import { describe, expect, it } from 'vitest';

type Typed = typeof import('./workers/typed-module.mjs').functions;
const moduleUrl = new URL('./workers/typed-module.mjs', import.meta.url);

describe('typed calls', () => {
  it('call the functions a thread defined with defineFunctions', async () => {
    await using t = await IOThread.create<Typed>({ module: moduleUrl });
    const product: number = await t.call('scale', 6, 7);
    expect(product).toBe(42);
    expect(await t.call('join', ['a', 'b', 'c'])).toBe('a-b-c');
    const remote = AioContext.from<Typed>(t.context.handle);
    expect(await remote.call('scale', 2, 0.5)).toBe(1);
  });

  it("run on a thread pool's typed view", async () => {
    const pool = AioContext.current().threadPool.typed<Typed>();
    expect(pool).toBe(AioContext.current().threadPool);
    pool.setParams({ max: 1, modules: [moduleUrl] });
    try {
      expect(await pool.submit('scale', 3, 3)).toBe(9);
      const joined = await new Promise<string | undefined>((resolve, reject) =>
        pool.submitAio('join', [['x', 'y']], (err, ret) => (err ? reject(err) : resolve(ret))),
      );
      expect(joined).toBe('x-y');
    } finally {
      await pool.shutdown();
    }
  });

  it('defineFunctions registers every function of the map under its key, in this thread', async () => {
    const defined = defineFunctions({ typedTwice: (v: number) => v * 2 });
    expect(defined.typedTwice(4)).toBe(8);
    const self = AioContext.from<typeof defined>(AioContext.current().handle);
    expect(await self.call('typedTwice', 21)).toBe(42);
  });

  it('defineFunctions with a value that is not a function throws naming it, and registers none', async () => {
    const bad = { typedFirst: () => 1, typedSecond: 3 } as unknown as Record<string, () => number>;
    expect(() => defineFunctions(bad)).toThrow(/functions\.typedSecond/);
    expect(() => defineFunctions(null as unknown as Record<string, () => number>)).toThrow(/"functions"/);
    const self = AioContext.from(AioContext.current().handle);
    await expect(self.call('typedFirst')).rejects.toMatchObject({ code: 'ERR_AIO_NO_FUNCTION' });
  });
});
