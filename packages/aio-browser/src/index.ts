/**
 * aio-browser: aio in browsers (pages and workers). Re-exports aio-core and installs the
 * browser host in the importing thread.
 *
 * @module aio-browser
 */
import { setHost } from 'aio-core';
import { browserHost, crossOriginIsolationProblem } from './host.js';
import { serveIOThread } from './serve-iothread.js';

setHost(browserHost);

export * from 'aio-core';
export { browserHost, crossOriginIsolationProblem, serveIOThread };
