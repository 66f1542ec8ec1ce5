/**
 * Entry module of an aio-browser IOThread. The host starts the worker with a generated
 * module that imports this one and the user's module statically, then calls `start`.
 */
import { runIOThread, webWorkerParent } from 'aio-core';
import './index.js';

/** Runs the IOThread loop with the already imported user module (null: none). Worker only. */
export function start(module: unknown): void {
  void runIOThread(webWorkerParent(), async () => module);
}
