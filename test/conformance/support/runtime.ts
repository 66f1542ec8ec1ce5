/**
 * What the conformance tests need to know about the runtime they run on, and the few
 * things they do differently because of it (starting a worker, sleeping a thread). The
 * assertions themselves are the same on every runtime.
 */
import { type AioContext, getHost } from 'aio-under-test';

const g = globalThis as { Bun?: unknown; Deno?: unknown; window?: unknown; Worker?: unknown };

/** Which runtime the suite runs on. */
export const runtime: 'node' | 'bun' | 'deno' | 'browser' = g.Bun ? 'bun' : g.Deno ? 'deno' : g.window ? 'browser' : 'node';

/** True when this thread may block in Atomics.wait (false on a browser main thread). */
export const canBlock = getHost().canBlock();

/** A minimal worker interface shared by web Workers and node:worker_threads. */
export interface TestWorker {
  post(msg: unknown): void;
  next(): Promise<unknown>;
  terminate(): Promise<void>;
}

/** Starts a module worker from a `.mjs` file next to the tests. */
export async function startWorker(url: URL): Promise<TestWorker> {
  const inbox: unknown[] = [];
  const waiting: ((m: unknown) => void)[] = [];
  const deliver = (m: unknown) => {
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  };
  const next = () => new Promise<unknown>((r) => (inbox.length ? r(inbox.shift()) : waiting.push(r)));
  if (runtime === 'node') {
    const { Worker } = await import('node:worker_threads');
    // A clean execArgv: vitest runs tests with the 'aio-source' condition, which would
    // send the worker to TypeScript sources that Node 20 cannot start.
    const w = new Worker(url, { execArgv: [] });
    w.on('message', deliver);
    w.on('error', (e) => deliver({ error: String(e) }));
    return { post: (m) => w.postMessage(m), next, terminate: async () => void (await w.terminate()) };
  }
  const W = g.Worker as typeof Worker;
  const w = new W(url, { type: 'module' });
  // Handlers are attached at construction: Deno may deliver the first message early.
  w.onmessage = (e: MessageEvent) => deliver(e.data);
  w.onerror = (e: ErrorEvent) => deliver({ error: e.message });
  return { post: (m) => w.postMessage(m), next, terminate: async () => w.terminate() };
}

/** Sleeps without running the event loop (g_usleep), where the thread may block. */
export function sleepThread(ms: number): void {
  if (canBlock) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  else {
    const end = performance.now() + ms;
    while (performance.now() < end);
  }
}

/** A blocking poll: `poll(true)` where the thread may block, else `pollAsync()`. */
export async function blockingPoll(ctx: AioContext): Promise<boolean> {
  return canBlock ? ctx.poll(true) : ctx.pollAsync();
}

/** Polls without blocking until nothing makes progress (QEMU's flush idiom). */
export function flush(ctx: AioContext): void {
  while (ctx.poll(false));
}
