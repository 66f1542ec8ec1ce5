/**
 * The Deno host: Deno lets every thread block, so only the runtime name differs from
 * aio-core's neutral host for now. Thread spawning (Deno's Worker) comes with IOThreads.
 */
import { type Host, createHost } from 'aio-core';

/** The host aio-deno installs in every thread that imports it. */
export const denoHost: Host = createHost({ runtime: 'deno', canBlock: () => true });
