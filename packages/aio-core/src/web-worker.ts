/**
 * Web Workers as IOThreads, for the adapters whose runtime has the web `Worker` (Bun,
 * browsers): how a parent starts one and how the worker talks to its parent. The worker
 * is started and watched by start-worker.ts, which sees every end (Bun's 'close' with
 * the exit code, the worker's own close(), its lifetime Web Lock, terminate()); an
 * uncaught error in an IOThread is a crash, so it ends the worker too. Only globals that
 * these runtimes share are used, looked up at call time; nothing here runs unless an
 * adapter asks for it.
 */
import type { SpawnedThread, ThreadChannel, ThreadExit } from './host.js';
import { startWatchedWorker } from './start-worker.js';

/** Starts a module worker running `entry` as an IOThread. Parent thread. */
export function spawnWebWorker(entry: URL): SpawnedThread {
  let receive: ((message: unknown) => void) | null = null;
  const early: unknown[] = [];
  let exited: ((exit: ThreadExit) => void) | null = null;
  let ended: ThreadExit | undefined;
  let gone!: () => void;
  const joined = new Promise<void>((r) => (gone = r));
  const { worker } = startWatchedWorker(entry, {}, { endOnError: true }, (exit) => {
    ended = exit;
    gone();
    exited?.(exit);
  });
  const w = worker as typeof worker & { unref?(): void; ref?(): void };
  // Attached now: a runtime may deliver the first message before a microtask runs.
  worker.addEventListener('message', (e: { data: unknown }) => {
    if (receive) receive(e.data);
    else early.push(e.data);
  });
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
      await joined;
    },
    // Bun's workers can stop holding the process; others lack it.
    unref: () => w.unref?.(),
    ref: () => w.ref?.(),
  };
}

/** The channel from inside a web worker to its parent. Worker thread. */
export function webWorkerParent(): ThreadChannel {
  const scope = globalThis as unknown as {
    postMessage(message: unknown): void;
    addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  };
  let receive: ((message: unknown) => void) | null = null;
  const early: unknown[] = [];
  scope.addEventListener('message', (e) => {
    if (receive) receive(e.data);
    else early.push(e.data);
  });
  return {
    post: (m) => scope.postMessage(m),
    onMessage(r) {
      receive = r;
      for (const m of early.splice(0)) r(m);
    },
  };
}
