// Run in a child process by the process-exit tests: uses an IOThread, the thread pool and
// an attached main context, stops everything, and then must exit by itself (no explicit
// process.exit), printing "done" and the time it did, so the parent can check that the
// exit came promptly (nothing left holding the process, such as a stop() timeout).
const runtime = globalThis.Bun ? 'bun' : globalThis.Deno ? 'deno' : 'node';
const { AioContext, IOThread } = await import(`aio-${runtime}`);

const module = new URL('./iothread-module.mjs', import.meta.url);
const t = await IOThread.create({ module });
const sum = await t.call('add', 20, 22);
const integrated = await IOThread.create({ module, mode: 'integrated' });
await integrated.call('echo', 'x');
const main = AioContext.main();
const timer = main.timer('realtime', 1_000_000, () => {});
timer.mod(performance.now() + 5);
await main.waitWhileAsync(() => timer.pending());
await t.stop();
await integrated.stop();
console.log(sum === 42 ? `done ${Date.now()}` : `wrong sum ${sum}`);
