/**
 * aio-deno: aio on Deno. Re-exports aio-core and installs the Deno host in the importing
 * thread; adds `setConnHandler` (Deno's connections as event sources).
 *
 * @module aio-deno
 */
import { setHost } from 'aio-core';
import { denoHost } from './host.js';

setHost(denoHost);

export * from 'aio-core';
export { denoHost };
export { type DenoConnLike, setConnHandler } from './sources.js';
