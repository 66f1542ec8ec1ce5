/**
 * The suite runs where it says it runs: the adapter under test matches the runtime, and
 * each runtime has the shared-memory facilities aio needs.
 */
import { getHost } from 'aio-under-test';
import { describe, expect, it } from 'vitest';
import { canBlock, runtime } from './support/runtime.js';

describe('runtime', () => {
  it('the installed host is the adapter of this runtime', () => {
    expect(getHost().runtime).toBe(runtime);
    const g = globalThis as { Bun?: unknown; Deno?: unknown; crossOriginIsolated?: boolean };
    if (runtime === 'bun') expect(g.Bun).toBeDefined();
    if (runtime === 'deno') expect(g.Deno).toBeDefined();
    if (runtime === 'browser') expect(g.crossOriginIsolated).toBe(true);
  });

  it('only a browser main thread may not block, and every runtime has shared memory', () => {
    expect(canBlock).toBe(runtime !== 'browser');
    expect(typeof SharedArrayBuffer).toBe('function');
    expect(typeof Atomics.waitAsync).toBe('function');
  });
});
