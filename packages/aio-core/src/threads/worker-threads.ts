/**
 * Node-style workers (`node:worker_threads`, which Node and Deno both have) as threads:
 * how a parent starts one and how the worker talks to its parent. The adapters pass the
 * runtime's `Worker` class and `parentPort`, so this file imports nothing runtime-specific.
 * Such a worker reports every end with its 'exit' event (with the exit code) and can stop
 * holding the process (`unref`), which web Workers cannot everywhere.
 */
import { type NodeStyleProcess, type SpawnedThread, type ThreadChannel, type ThreadExit, onProcessEnding, tellBeforeEnding, tellOnce } from '../base/host.js';

/** The part of `node:worker_threads`' Worker that aio uses. */
export interface NodeStyleWorker {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<unknown>;
  ref(): void;
  unref(): void;
}

/** The part of `node:worker_threads`' parentPort that aio uses. */
export interface NodeStylePort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * Starts a worker with `start` (for example `(url) => new Worker(url)`) and wraps it as a
 * SpawnedThread. Parent thread.
 */
export function spawnWorkerThread(start: (entry: URL) => NodeStyleWorker, entry: URL): SpawnedThread {
  const worker = start(entry);
  let error: Error | undefined;
  let terminated = false;
  worker.on('error', (e) => (error = e));
  const exit = new Promise<ThreadExit>((resolve) =>
    worker.on('exit', (code) => resolve({ ...(error ? { error } : {}), ...(terminated ? { terminated } : { code }) })),
  );
  return {
    post: (m) => worker.postMessage(m),
    onMessage: (r) => void worker.on('message', r),
    onExit: (r) => void exit.then(r),
    async terminate() {
      terminated = true;
      await worker.terminate();
    },
    unref: () => worker.unref(),
    ref: () => worker.ref(),
  };
}

/**
 * The channel from inside a node-style worker to its parent. `proc` (the runtime's
 * `process`) tells the thread its own end, and so does the worker scope's `close()`
 * where it has one; `moreEnds` arms the runtime's own ways to end a thread that neither
 * reports (the adapter knows them). Worker thread.
 */
export function workerThreadParent(port: NodeStylePort | null, proc: NodeStyleProcess, moreEnds?: (listener: (exit: ThreadExit) => void) => void): ThreadChannel {
  if (!port) throw new Error('not inside a worker thread');
  return {
    post: (m) => port.postMessage(m),
    onMessage: (r) => void port.on('message', r),
    onEnding(listener) {
      const tell = tellOnce(listener);
      onProcessEnding(proc, tell);
      tellBeforeEnding(globalThis, 'close', () => ({ closed: true }), tell);
      moreEnds?.(tell);
    },
  };
}
