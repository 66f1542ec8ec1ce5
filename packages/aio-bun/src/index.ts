/**
 * aio-bun: aio on Bun. Re-exports aio-core and installs the Bun host in the importing
 * thread; adds `bunSocketHandler` (Bun's sockets as event sources).
 *
 * @module aio-bun
 */
import { setHost } from 'aio-core';
import { bunHost } from './host.js';

setHost(bunHost);

export * from 'aio-core';
export { bunHost };
export { type BunSocketHandler, bunSocketHandler } from './sources.js';
