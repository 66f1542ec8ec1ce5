/**
 * The browser host. A window's main thread may not block (Atomics.wait throws there);
 * dedicated workers may. Without cross-origin isolation there is no SharedArrayBuffer,
 * and `crossOriginIsolationProblem()` says which header is missing.
 */
import { type Host, createHost, probeCanBlock } from 'aio-core';

const canBlock = probeCanBlock();

/** The host aio-browser installs in every thread that imports it. */
export const browserHost: Host = createHost({ runtime: 'browser', canBlock: () => canBlock });

/**
 * Null when this page or worker can use shared memory; otherwise a sentence naming the
 * headers the page must be served with. Any thread.
 */
export function crossOriginIsolationProblem(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (typeof SharedArrayBuffer !== 'undefined' && g.crossOriginIsolated !== false) return null;
  return (
    'This page is not cross-origin isolated, so SharedArrayBuffer is unavailable. Serve it with ' +
    '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" ' +
    '(and "Cross-Origin-Resource-Policy: same-origin" on its scripts).'
  );
}
