/**
 * The Node.js host: threads are `worker_threads` Workers; every thread may block; module
 * paths become file URLs through `url.pathToFileURL` (relative ones from the working
 * directory).
 */
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { Worker, parentPort } from 'node:worker_threads';
import { type Host, createHost, spawnWorkerThread, workerThreadParent } from 'aio-core';

/** The host aio-node installs in every thread that imports it. */
export const nodeHost: Host = createHost({
  runtime: 'node',
  canBlock: () => true,
  spawnThread: (entry) => spawnWorkerThread((url) => new Worker(url), entry),
  parentChannel: () => workerThreadParent(parentPort, process),
  iothreadEntry: new URL('./iothread-worker.js', import.meta.url),
  moduleFileURL: (path) => pathToFileURL(path).href,
});
