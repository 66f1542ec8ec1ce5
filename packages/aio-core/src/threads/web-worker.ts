/**
 * Web Workers as IOThreads, for the adapters whose runtime has the web `Worker` (Bun,
 * browsers): how a parent starts one and how the worker talks to its parent. The worker
 * is started and watched by start-worker.ts, which sees every end (Bun's 'close' with
 * the exit code, the worker's own close(), its lifetime Web Lock, terminate()); an
 * uncaught error in an IOThread is a crash, so it ends the worker too. Only globals that
 * these runtimes share are used, looked up at call time; nothing here runs unless an
 * adapter asks for it.
 */
import { type NodeStyleProcess, type SpawnedThread, type ThreadChannel, type ThreadExit, onProcessEnding, tellBeforeEnding, tellOnce } from '../base/host.js';
import { AioError, argTypeError } from '../base/errors.js';
import { THREAD_NAME_TAG } from '../locks/thread-id.js';
import { runIOThread } from './iothread-runner.js';
import { type WorkerFactory, crashWorker, startWatchedWorker } from './start-worker.js';

/**
 * Starts a module worker running `entry` (a URL, or a factory that constructs the worker
 * with the name it is given) as an IOThread. `script` is what errors call the worker's
 * script (default: "worker script <its URL>"), where the URL alone would not tell the user
 * (a generated entry). Parent thread.
 */
export function spawnWebWorker(entry: URL | WorkerFactory, script?: string): SpawnedThread {
  const events = threadEvents();
  const { worker } = startWatchedWorker(entry, {}, { endOnError: true, ...(script === undefined ? {} : { script }) }, events.exit);
  const w = worker as typeof worker & { unref?(): void; ref?(): void };
  // Attached now: a runtime may deliver the first message before a microtask runs.
  worker.addEventListener('message', (e: { data: unknown }) => events.message(e.data));
  return {
    post: (m) => worker.postMessage(m),
    onMessage: events.onMessage,
    onExit: events.onExit,
    async terminate() {
      worker.terminate();
      await events.joined;
    },
    // Where the runtime's workers can stop holding the process; elsewhere absent.
    unref: () => w.unref?.(),
    ref: () => w.ref?.(),
  };
}

/**
 * The worker side of an IOThread whose worker the program constructs itself (the `worker`
 * option of IOThread.create): runs the IOThread with `modules`, imported already, whose
 * `setup` runs in order before create() resolves. Throws for a module that is not an
 * object, and where the worker did not get the name its factory was given (that name
 * carries the id through which the parent sees the worker end); the second also ends the
 * worker and fails create() with its message.
 * Worker thread.
 */
export function runMadeWorkerIOThread(modules: unknown[]): Promise<void> {
  for (const m of modules) if (typeof m !== 'object' || m === null) throw argTypeError('modules[]', 'a module namespace or an object', m);
  const name = (globalThis as { name?: unknown }).name;
  if (typeof name !== 'string' || !name.includes(THREAD_NAME_TAG)) {
    crashWorker(
      new AioError(
        'ERR_AIO_NO_HOST',
        "this worker runs as an IOThread but did not get the name IOThread.create() gave its `worker` factory: construct it as `(name) => new Worker(url, { type: 'module', name })`",
      ),
    );
  }
  return runIOThread(webWorkerParent(), () => Promise.reject(new Error('a worker the program constructs loads no modules by URL')), modules);
}

/**
 * A parent's view of the events of a thread whose messages and end arrive before anyone
 * listens: each is kept until its receiver is set. Parent thread. @internal
 */
export function threadEvents(): {
  /** A message from the thread. */
  message(message: unknown): void;
  /** The thread's end; later ones are ignored. */
  exit(exit: ThreadExit): void;
  /** Whether the end came. */
  ended(): boolean;
  /** Resolves at the end. */
  joined: Promise<void>;
  onMessage: SpawnedThread['onMessage'];
  onExit: SpawnedThread['onExit'];
} {
  let receive: ((message: unknown) => void) | null = null;
  const early: unknown[] = [];
  let exited: ((exit: ThreadExit) => void) | null = null;
  let ended: ThreadExit | undefined;
  let gone!: () => void;
  const joined = new Promise<void>((r) => (gone = r));
  return {
    message(m) {
      if (receive) receive(m);
      else early.push(m);
    },
    exit(exit) {
      if (ended !== undefined) return;
      ended = exit;
      gone();
      exited?.(exit);
    },
    ended: () => ended !== undefined,
    joined,
    onMessage(r) {
      receive = r;
      for (const m of early.splice(0)) r(m);
    },
    onExit(r) {
      exited = r;
      if (ended !== undefined) r(ended);
    },
  };
}

/**
 * The channel from inside an IOThread's web worker to its parent. The thread hears of its
 * own end from its close() and, where the runtime has one, its `process` (`proc`);
 * an uncaught error ends it (it closes itself), as it ends a node-style worker. Worker thread.
 */
export function webWorkerParent(proc?: NodeStyleProcess): ThreadChannel {
  const scope = globalThis as unknown as {
    postMessage(message: unknown): void;
    addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
    addEventListener(type: 'error', listener: (event: { error?: unknown; message?: unknown }) => void): void;
    close(): void;
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
    onEnding(listener) {
      const tell = tellOnce(listener);
      if (proc) onProcessEnding(proc, tell);
      const close = scope.close;
      tellBeforeEnding(scope, 'close', () => ({ closed: true }), tell);
      scope.addEventListener('error', (e) => {
        tell({ error: e.error instanceof Error ? e.error : new Error(typeof e.message === 'string' ? e.message : 'uncaught error') });
        close.call(scope);
      });
    },
  };
}
