/**
 * The Bun host: threads are Bun's global (web) Worker, not its node:worker_threads, which
 * is unreliable under load; Bun reports a worker's end with its 'close' event. Every
 * thread may block; module paths become file URLs through `Bun.pathToFileURL` (relative
 * ones from the working directory).
 */
import { type Host, type NodeStyleProcess, createHost, spawnWebWorker, webWorkerParent } from 'aio-core';

declare const process: NodeStyleProcess;
declare const Bun: { pathToFileURL(path: string): URL };

/** The host aio-bun installs in every thread that imports it. */
export const bunHost: Host = createHost({
  runtime: 'bun',
  canBlock: () => true,
  spawnThread: (entry) => spawnWebWorker(entry),
  workerCloseEvent: true,
  parentChannel: () => webWorkerParent(process),
  iothreadEntry: new URL('./iothread-worker.js', import.meta.url),
  moduleFileURL: (path) => Bun.pathToFileURL(path).href,
});
