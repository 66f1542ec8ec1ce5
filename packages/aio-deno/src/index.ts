/**
 * aio-deno: aio on Deno. Re-exports aio-core and installs the Deno host in the importing thread.
 *
 * @module aio-deno
 */
import { setHost } from 'aio-core';
import { denoHost } from './host.js';
import './sources.js';

setHost(denoHost);

export * from 'aio-core';
export { denoHost };
export type { DenoConnLike } from './sources.js';
