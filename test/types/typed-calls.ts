/**
 * Type tests of typed calls (checked by `tsc -p test/tsconfig.json` in npm test, never
 * run): a function map types IOThread.call, RemoteContext.call and scheduleOneshot, and
 * a thread pool's submit and submitAio; wrong names, arguments and result types are
 * errors; untyped handles stay permissive.
 */
import { AioContext, type IOThread, type ThreadPool, defineFunctions } from 'aio-under-test';

const functions = defineFunctions({
  read: (offset: number, length: number) => new Uint8Array(length - offset),
  sum: async (values: number[]) => values.reduce((a, b) => a + b, 0),
  hello: () => 'hello',
});
type Disk = typeof functions;

/** A module namespace: its function exports are callable names, its other exports are not. */
interface DiskModule {
  read(offset: number): string;
  readonly version: number;
}

export async function typedIOThread(t: IOThread<Disk>): Promise<void> {
  const block: Uint8Array = await t.call('read', 0, 10);
  const total: number = await t.call('sum', [1, 2]);
  const greeting: string = await t.call('hello');
  void [block, total, greeting];
  // @ts-expect-error an argument of the wrong type
  await t.call('read', '0', 10);
  // @ts-expect-error a missing argument
  await t.call('read', 0);
  // @ts-expect-error an extra argument
  await t.call('hello', 1);
  // @ts-expect-error a name the thread does not define
  await t.call('write', 0);
  // @ts-expect-error the result is a number (the awaited result of an async function)
  const wrong: string = await t.call('sum', [1]);
  void wrong;
  t.context.scheduleOneshot('read', 1, 2);
  // @ts-expect-error scheduleOneshot checks arguments too
  t.context.scheduleOneshot('read', 1, 'x');
}

export async function typedRemoteAndPool(handle: AioContext['handle'], pool: ThreadPool): Promise<void> {
  const remote = AioContext.from<Disk>(handle);
  const n: number = await remote.call('sum', [1]);
  void n;
  // @ts-expect-error a name the thread does not define
  await remote.call('nope');
  const typed = pool.typed<Disk>();
  const bytes: Uint8Array = await typed.submit('read', 1, 2);
  void bytes;
  // @ts-expect-error an argument of the wrong type
  await typed.submit('sum', 1);
  typed.submitAio('read', [1, 2], (err, ret) => {
    const got: Uint8Array | undefined = ret;
    void [err, got];
  });
  // @ts-expect-error the argument array is checked
  typed.submitAio('read', ['1', 2], () => {});
}

export async function moduleNamespace(t: IOThread<DiskModule>): Promise<void> {
  const text: string = await t.call('read', 1);
  void text;
  // @ts-expect-error 'version' is not a function
  await t.call('version');
}

export async function untyped(t: IOThread, pool: ThreadPool): Promise<void> {
  const anything: unknown = await t.call('whatever', 1, 'two', { three: 3 });
  const fromPool: unknown = await pool.submit('whatever');
  void [anything, fromPool];
  // @ts-expect-error an untyped result is unknown, not any
  const notAny: number = await t.call('whatever');
  void notAny;
}
