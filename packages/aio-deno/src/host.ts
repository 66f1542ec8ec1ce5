/**
 * The Deno host: threads are Deno's (web) Worker; every thread may block; module paths
 * resolve against the working directory.
 */
import { type Host, createHost, spawnWebWorker, webWorkerParent } from 'aio-core';

declare const Deno: { cwd(): string };

/** The host aio-deno installs in every thread that imports it. */
export const denoHost: Host = createHost({
  runtime: 'deno',
  canBlock: () => true,
  waitAsyncTimeoutsLate: true,
  spawnThread: (entry) => spawnWebWorker(entry),
  parentChannel: webWorkerParent,
  iothreadEntry: new URL('./iothread-worker.js', import.meta.url),
  moduleBase: () => `file://${Deno.cwd()}/`,
});
