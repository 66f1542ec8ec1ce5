/**
 * The Deno host: threads are Deno's (web) Worker; every thread may block; module paths
 * resolve against the working directory.
 */
import { type Host, createHost, spawnWebWorker, webWorkerParent } from 'aio-core';

declare const Deno: {
  cwd(): string;
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
  spawnThread: (entry) => spawnWebWorker(entry),
  parentChannel: webWorkerParent,
  iothreadEntry: new URL('./iothread-worker.js', import.meta.url),
  moduleBase: () => `file://${Deno.cwd()}/`,
  env,
});
