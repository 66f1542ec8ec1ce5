/**
 * The Node.js host: Node lets every thread block, so only the runtime name differs from
 * aio-core's neutral host for now. Thread spawning is added with IOThreads.
 */
import { type Host, createHost } from 'aio-core';

/** The host aio-node installs in every thread that imports it. */
export const nodeHost: Host = createHost({ runtime: 'node', canBlock: () => true });
