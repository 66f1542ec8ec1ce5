// Run in a child process by the process-exit fault tests: one scenario named by the first
// argument, after which the process must exit by itself (no explicit exit), printing
// "done" and the time it did, so the parent can check that the exit came promptly.
// Exported too, so a browser page runs the same flows (where there is no process).
const runtime = globalThis.Bun ? 'bun' : globalThis.Deno ? 'deno' : globalThis.window ? 'browser' : 'node';

export async function scenario(aio, name) {
  const { AioContext, IOThread } = aio;
  const module = new URL('./fault-module.mjs', import.meta.url);
  if (name === 'forgotten-stop') {
    const t = await IOThread.create({ module });
    return (await t.call('add', 20, 22)) === 42;
  }
  if (name === 'pool-detach') {
    const main = AioContext.main();
    const pool = main.threadPool;
    pool.setParams({ max: 2, modules: [module] });
    const results = await Promise.all([1, 2, 3, 4].map((n) => pool.submit('square', n)));
    main.detach();
    await pool.shutdown();
    return results.join(',') === '1,4,9,16';
  }
  if (name === 'dead-thread') {
    const t = await IOThread.create({ module });
    await t.call('exitWith', 'throw');
    await t.call('never').catch(() => {});
    try {
      AioContext.from(t.context.handle).scheduleOneshot('add', 1, 2);
      return false;
    } catch (e) {
      return e.code === 'ERR_AIO_THREAD_DIED' && t.state === 'dead';
    }
  }
  if (name === 'busy-thread') {
    // A thread with a pending call holds the process until the reply; then it may exit.
    const t = await IOThread.create({ module });
    const counter = new Int32Array(new SharedArrayBuffer(4));
    await Promise.all(Array.from({ length: 1000 }, () => t.call('count', counter.buffer)));
    return Atomics.load(counter, 0) === 1000;
  }
  if (name === 'await-forever') {
    // A coroutine awaiting forever is nobody's answer: it holds neither the process nor stop().
    const t = await IOThread.create({ module });
    await t.call('awaitForever');
    const started = performance.now();
    await t.stop().catch(() => {});
    const stopMs = performance.now() - started;
    const u = await IOThread.create({ module });
    await u.call('awaitForever');
    return stopMs < 2000;
  }
  if (name === 'call-while-idle') {
    // The main context, attached for an earlier call and asleep with nothing awaited (so
    // it holds nothing), gets a call to await from a host callback after which nothing
    // else is left: the call must hold the process until its reply.
    const t = await IOThread.create({ module });
    await t.call('add', 1, 1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    return (await t.call('add', 2, 3)) === 5;
  }
  throw new Error(`unknown scenario ${name}`);
}

if (runtime !== 'browser' && globalThis.process?.argv?.length > 2) {
  const name = globalThis.process.argv.at(-1);
  const ok = await scenario(await import(`aio-${runtime}`), name);
  console.log(ok ? `done ${Date.now()}` : `failed ${name}`);
}
