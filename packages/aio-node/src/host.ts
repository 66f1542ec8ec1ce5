/**
 * The Node.js host: threads are `worker_threads` Workers; every thread may block; module
 * paths resolve against the working directory.
 */
import { pathToFileURL } from 'node:url';
import { Worker, parentPort } from 'node:worker_threads';
import { type Host, type SpawnedThread, type ThreadChannel, createHost } from 'aio-core';

function spawnThread(entry: URL): SpawnedThread {
  const worker = new Worker(entry);
  let crash: Error | null = null;
  worker.on('error', (e) => (crash = e));
  const exit = new Promise<Error | null>((resolve) =>
    worker.on('exit', (code) => resolve(crash ?? (code === 0 || code === 1 ? null : new Error(`exit code ${code}`)))),
  );
  return {
    post: (m) => worker.postMessage(m),
    onMessage: (r) => void worker.on('message', r),
    onExit: (r) => void exit.then(r),
    terminate: async () => void (await worker.terminate()),
    unref: () => worker.unref(),
    ref: () => worker.ref(),
  };
}

function parentChannel(): ThreadChannel {
  const port = parentPort;
  if (!port) throw new Error('aio-node: not inside a worker thread');
  return { post: (m) => port.postMessage(m), onMessage: (r) => void port.on('message', r) };
}

/** The host aio-node installs in every thread that imports it. */
export const nodeHost: Host = createHost({
  runtime: 'node',
  canBlock: () => true,
  spawnThread,
  parentChannel,
  iothreadEntry: new URL('./iothread-worker.js', import.meta.url),
  moduleBase: () => pathToFileURL(`${process.cwd()}/`).href,
});
