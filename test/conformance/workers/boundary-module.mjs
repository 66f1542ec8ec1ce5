// The module the boundary fault tests load into their IOThreads: it collects the faults its
// context reports, and forges malformed messages on the thread's port in both directions.
import { AioContext, getHost, registerFunction } from 'aio-core';

const faults = [];

/** Delivers `message` to this thread's own port listener, as if the parent had posted it. */
async function postToSelf(message) {
  if (typeof globalThis.dispatchEvent === 'function') {
    globalThis.dispatchEvent(new MessageEvent('message', { data: message }));
    return;
  }
  // Node's worker_threads: the port is an EventEmitter. The specifier is computed so that
  // a browser bundler does not try to resolve it.
  const wt = 'node:worker_threads';
  const { parentPort } = await import(/* @vite-ignore */ wt);
  parentPort.emit('message', message);
}

export function setup(ctx) {
  ctx.setErrorHandler((err) => faults.push(`${err.code}: ${err.message}`));
  registerFunction('boundary.add', (a, b) => a + b);
  registerFunction('boundary.echo', (v) => v);
  registerFunction('boundary.faults', () => faults);
  registerFunction('boundary.toParent', (message) => {
    getHost().parentChannel().post(message);
    return 'posted';
  });
  registerFunction('boundary.toSelf', async (message) => {
    await postToSelf(message);
    return 'delivered';
  });
  registerFunction('boundary.throwBig', (n) => {
    throw new Error('m'.repeat(n));
  });
  registerFunction('boundary.current', () => AioContext.current().name);
}
