/**
 * Entry module of an aio-browser IOThread. The host starts the worker with a generated
 * module that imports this one and the user's modules statically, then calls `start`.
 */
import { runIOThread, webWorkerParent } from 'aio-core';
import './index.js';

/** Runs the IOThread loop with the already imported user modules, in order. Worker only. */
export function start(modules: unknown[]): void {
  void runIOThread(webWorkerParent(), async (_url, index) => modules[index]);
}
