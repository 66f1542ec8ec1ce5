/**
 * aio-node: aio on Node.js. Re-exports aio-core and installs the Node host in the
 * importing thread; adds `setFdHandler` (fds as event sources).
 *
 * @module aio-node
 */
import { setHost } from 'aio-core';
import { nodeHost } from './host.js';
import './worker-ends.js';

setHost(nodeHost);

export * from 'aio-core';
export { nodeHost };
export { type FdHandler, setFdHandler } from './sources.js';
