// The browser pass's blocking entries, in a dedicated worker where Atomics.wait works.
import { runSuite } from '../suite/suite.mjs';

addEventListener('message', async (e) => {
  const opts = e.data;
  try {
    const entry = opts.entryText ? new RegExp(opts.entryText, 'i') : undefined;
    const r = await runSuite({ ...opts, entry, log: (line) => postMessage({ log: line }), blockingOnly: true, thread: 'worker' });
    postMessage({ done: r });
  } catch (err) {
    postMessage({ error: String(err?.stack ?? err) });
  }
});
postMessage({ ready: true });
