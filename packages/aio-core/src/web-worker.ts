/**
 * Web Workers as threads, for the adapters whose runtime has the web `Worker` (Bun,
 * browsers): how a parent starts one, how the worker talks to its parent, and how the
 * parent sees the worker end. Only globals that these runtimes share are used, looked up
 * at call time; nothing here runs unless an adapter asks for it.
 *
 * Seeing the end: where the runtime fires an event when a worker ends (Bun's 'close',
 * with the exit code), that event says it. Browsers fire none, so two signals stand in:
 * the worker's own close() first posts an 'aio.exiting' word to the parent, and a Web
 * Lock the worker takes at start and holds for its whole life (a lifetime token) is
 * granted to the parent's waiting request when the worker is gone, however it went.
 */
import type { SpawnedThread, ThreadChannel, ThreadExit } from './host.js';

interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  /** Bun's workers can stop holding the process; others lack it. */
  unref?(): void;
  ref?(): void;
  addEventListener(
    type: string,
    listener: (event: { data?: unknown; message?: string; error?: unknown; code?: number; preventDefault?(): void }) => void,
  ): void;
}

interface LockManagerLike {
  request(name: string, callback: () => unknown): Promise<unknown>;
}

/** Web Locks, where the runtime has them (browsers, Deno). */
function lockManager(): LockManagerLike | undefined {
  return (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
}

/** Words between the two sides of a web worker that are not the user's messages. */
const EXITING = 'aio.exiting';
const LIFETIME = 'aio.lifetime';
const LIFETIME_HELD = 'aio.lifetime-held';

function controlKind(data: unknown): string | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const kind = (data as { kind?: unknown }).kind;
  return kind === EXITING || kind === LIFETIME || kind === LIFETIME_HELD ? kind : undefined;
}

/**
 * Starts a module worker. `exitEvent` names an event the runtime fires when the worker
 * ends (Bun's 'close', whose `code` is the exit code), if it has one. Parent thread.
 */
export function spawnWebWorker(entry: URL, exitEvent?: string): SpawnedThread {
  const WorkerCtor = (globalThis as { Worker?: new (url: URL, options: { type: string }) => WebWorker }).Worker;
  if (!WorkerCtor) throw new Error('this runtime has no global Worker');
  const worker = new WorkerCtor(entry, { type: 'module' });
  let receive: ((message: unknown) => void) | null = null;
  const early: unknown[] = [];
  let exited: ((exit: ThreadExit) => void) | null = null;
  let ended: ThreadExit | undefined;
  let error: Error | undefined;
  let terminated = false;
  const end = (exit: ThreadExit) => {
    if (ended !== undefined) return;
    ended = { ...(error ? { error } : {}), ...exit, ...(terminated ? { terminated } : {}) };
    exited?.(ended);
  };
  const locks = exitEvent ? undefined : lockManager();
  // Listeners are attached now: a runtime may deliver the first message before a microtask runs.
  worker.addEventListener('message', (e) => {
    switch (controlKind(e.data)) {
      case EXITING:
        return end({ closed: true });
      case LIFETIME_HELD:
        // The worker holds the token now: this request is granted once it is gone.
        void locks?.request((e.data as { name: string }).name, () => end({}));
        return;
      default:
        if (receive) receive(e.data);
        else early.push(e.data);
    }
  });
  worker.addEventListener('error', (e) => {
    e.preventDefault?.();
    error = e.error instanceof Error ? e.error : new Error(e.message ?? 'worker error');
    // Without an exit event, an uncaught error is the end (browsers end the worker's script).
    if (!exitEvent) end({});
  });
  if (exitEvent) worker.addEventListener(exitEvent, (e) => end(typeof e.code === 'number' && !terminated ? { code: e.code } : {}));
  if (locks) worker.postMessage({ kind: LIFETIME, name: `aio-thread-${Math.random().toString(36).slice(2)}-${Date.now()}` });
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
      terminated = true;
      worker.terminate();
      end({});
    },
    unref: () => worker.unref?.(),
    ref: () => worker.ref?.(),
  };
}

/**
 * The channel from inside a web worker to its parent, and this side of the end signals:
 * the worker takes the lifetime token its parent names, and its close() tells the parent
 * before it returns. Worker thread.
 */
export function webWorkerParent(): ThreadChannel {
  const scope = globalThis as unknown as {
    postMessage(message: unknown): void;
    addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
    close?: () => void;
  };
  let receive: ((message: unknown) => void) | null = null;
  const early: unknown[] = [];
  const close = scope.close;
  if (typeof close === 'function') {
    scope.close = () => {
      scope.postMessage({ kind: EXITING });
      close.call(scope);
    };
  }
  scope.addEventListener('message', (e) => {
    if (controlKind(e.data) === LIFETIME) {
      const name = (e.data as { name: string }).name;
      // Held until the worker is gone; the callback's promise never settles on purpose.
      void lockManager()?.request(name, () => {
        scope.postMessage({ kind: LIFETIME_HELD, name });
        return new Promise(() => {});
      });
      return;
    }
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
