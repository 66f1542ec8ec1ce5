// The page the bundler test builds with Vite and with esbuild, from aio's packed tarballs.
//
// Owns: what the page tries and what it reports in #result (JSON) for the test to check:
// an IOThread started through the `worker` option answers an awaited call and stops; and
// three starts that must fail, each naming what went wrong: a worker script that is not
// there, a worker constructed without the name aio gave its factory, and an IOThread
// started from a module URL, which a bundled page cannot load.
import { IOThread, crossOriginIsolationProblem } from 'aio-browser';

/** The code and message a start that must fail failed with, or 'started' if it did not fail. */
async function startFailure(options) {
  try {
    const io = await IOThread.create(options);
    await io.stop();
    return 'started';
  } catch (err) {
    return { code: err?.code, message: String(err?.message ?? err) };
  }
}

async function run() {
  const problem = crossOriginIsolationProblem();
  if (problem) return { problem };
  const io = await IOThread.create({
    name: 'adder',
    worker: (name) => new Worker(new URL('./adder-thread.js', import.meta.url), { type: 'module', name }),
  });
  const sum = await io.call('add', 2, 3);
  await io.stop();
  const afterStop = await io.call('add', 1, 1).then(
    () => 'answered',
    (err) => err?.code,
  );
  return {
    isolated: globalThis.crossOriginIsolated === true,
    sum,
    afterStop,
    // A plain string, not `new URL(...)`: no bundler looks at it, so the script is missing.
    missing: await startFailure({ name: 'missing', worker: (name) => new Worker('./no-such-thread.js', { type: 'module', name }) }),
    unnamed: await startFailure({ name: 'unnamed', worker: () => new Worker(new URL('./adder-thread.js', import.meta.url), { type: 'module' }) }),
    byUrl: await startFailure({ name: 'by-url', module: './adder-thread.js' }),
  };
}

run()
  .then(
    (result) => result,
    (err) => ({ error: String(err?.stack ?? err) }),
  )
  .then((result) => {
    document.getElementById('result').textContent = JSON.stringify(result);
    document.body.dataset.state = 'done';
  });
