/**
 * The Bun host: Bun lets every thread block, so only the runtime name differs from
 * aio-core's neutral host for now. Thread spawning (Bun's global Worker) comes with IOThreads.
 */
import { type Host, createHost } from 'aio-core';

/** The host aio-bun installs in every thread that imports it. */
export const bunHost: Host = createHost({ runtime: 'bun', canBlock: () => true });
