/**
 * Robust locks on Node (aio-core's robust.ts): every `worker_threads` Worker this thread
 * creates, by aio or by the program, is recorded as dead when it exits, so the locks it
 * held report owner death. Node announces each new Worker to the creating thread on the
 * diagnostics channel 'worker_threads'; the worker's lock id is its `threadId` + 1
 * (`threadIdOfWorker`), which it takes itself when aio-core loads there.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { Worker } from 'node:worker_threads';
import { threadEnded, threadIdOfWorker } from 'aio-core';

subscribe('worker_threads', (message) => {
  const { worker } = message as { worker: Worker };
  // Read now: after the exit, worker.threadId is -1.
  const id = threadIdOfWorker(worker.threadId);
  worker.once('exit', (code: number) => threadEnded(id, `its worker_threads Worker exited with code ${code}`));
});
