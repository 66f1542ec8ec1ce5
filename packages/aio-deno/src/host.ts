/**
 * The Deno host: threads are Deno's `node:worker_threads` Workers rather than its web
 * Workers, because only those report every end ('exit', with the code, also for
 * Deno.exit() and close()), end when terminated while busy, and can stop holding the
 * process (`unref`). Every thread may block; module paths become file URLs through
 * `pathToFileURL` of Deno's `node:url` (relative ones from the working directory).
 */
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { Worker, parentPort } from 'node:worker_threads';
import { type Host, createHost, spawnWorkerThread, tellBeforeEnding, workerThreadParent } from 'aio-core';

declare const Deno: {
  exit(code?: number): never;
  env: { get(name: string): string | undefined };
  permissions: { querySync?(descriptor: { name: 'env'; variable: string }): { state: string } };
};

/** An environment variable, read only where env access is already granted (no prompt, no NotCapable). */
function env(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync?.({ name: 'env', variable: name }).state !== 'granted') return undefined;
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** The host aio-deno installs in every thread that imports it. */
export const denoHost: Host = createHost({
  runtime: 'deno',
  canBlock: () => true,
  waitAsyncTimeoutsLate: true,
  spawnThread: (entry) => spawnWorkerThread((url) => new Worker(url), entry),
  parentChannel: () => workerThreadParent(parentPort, process, (tell) => {
    // Deno.exit() fires no 'exit' in a worker.
    tellBeforeEnding(Deno, 'exit', (code?: number) => ({ code: code ?? 0 }), tell);
  }),
  iothreadEntry: new URL('./iothread-worker.js', import.meta.url),
  moduleFileURL: (path) => pathToFileURL(path).href,
  env,
});
