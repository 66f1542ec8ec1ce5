/**
 * aio-bun: aio on Bun. Re-exports aio-core and installs the Bun host in the importing thread.
 *
 * @module aio-bun
 */
import { setHost } from 'aio-core';
import { bunHost } from './host.js';
import './sources.js';

setHost(bunHost);

export * from 'aio-core';
export { bunHost };
export type { BunSocketHandler } from './sources.js';
