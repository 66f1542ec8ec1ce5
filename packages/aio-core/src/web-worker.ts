/**
 * Web Workers as threads, for the adapters whose runtime has the web `Worker` (Bun, Deno,
 * browsers): how a parent starts one and how the worker talks to its parent. Only globals
 * that these runtimes share are used, looked up at call time; nothing here runs unless an
 * adapter asks for it.
 */
import type { SpawnedThread, ThreadChannel } from './host.js';

interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  /** Bun's workers can stop holding the process; others lack it. */
  unref?(): void;
  ref?(): void;
  addEventListener(type: string, listener: (event: { data?: unknown; message?: string; error?: unknown; preventDefault?(): void }) => void): void;
}

/**
 * Starts a module worker. `exitEvent` names an event the runtime fires when the worker
 * ends (Bun's 'close'), if it has one. Parent thread.
 */
export function spawnWebWorker(entry: URL, exitEvent?: string): SpawnedThread {
  const WorkerCtor = (globalThis as { Worker?: new (url: URL, options: { type: string }) => WebWorker }).Worker;
  if (!WorkerCtor) throw new Error('this runtime has no global Worker');
  const worker = new WorkerCtor(entry, { type: 'module' });
  let receive: (message: unknown) => void = () => {};
  const early: unknown[] = [];
  let exited: ((error: Error | null) => void) | null = null;
  let ended: Error | null | undefined;
  const end = (error: Error | null) => {
    if (ended !== undefined) return;
    ended = error;
    exited?.(error);
  };
  // Listeners are attached now: Deno may deliver the first message before a microtask runs.
  worker.addEventListener('message', (e) => (receive === noop ? early.push(e.data) : receive(e.data)));
  worker.addEventListener('error', (e) => {
    e.preventDefault?.();
    end(e.error instanceof Error ? e.error : new Error(e.message ?? 'worker error'));
  });
  if (exitEvent) worker.addEventListener(exitEvent, () => end(null));
  function noop(): void {}
  receive = noop;
  return {
    post: (m) => worker.postMessage(m),
    onMessage(r) {
      receive = r;
      for (const m of early.splice(0)) r(m);
    },
    onExit(r) {
      exited = r;
      if (ended !== undefined) r(ended);
    },
    async terminate() {
      worker.terminate();
      end(null);
    },
    unref: () => worker.unref?.(),
    ref: () => worker.ref?.(),
  };
}

/** The channel from inside a web worker to its parent. Worker thread. */
export function webWorkerParent(): ThreadChannel {
  const scope = globalThis as unknown as {
    postMessage(message: unknown): void;
    addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  };
  let receive: (message: unknown) => void = () => {};
  const early: unknown[] = [];
  let installed = false;
  scope.addEventListener('message', (e) => (installed ? receive(e.data) : early.push(e.data)));
  return {
    post: (m) => scope.postMessage(m),
    onMessage(r) {
      receive = r;
      installed = true;
      for (const m of early.splice(0)) r(m);
    },
  };
}
