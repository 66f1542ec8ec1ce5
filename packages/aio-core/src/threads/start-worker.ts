/**
 * Workers the program starts itself, made visible to robust locks (robust.ts): on Bun,
 * Deno and browsers a worker started with `startWorker()` is recorded as dead in the wake
 * table when it ends, so the locks it held report owner death. (On Node, aio-node sees
 * every `worker_threads` Worker without help.)
 *
 * Owns: both sides of a plain worker's lifetime record.
 *  - Parent side (`startWorker`): knows the worker's lock id (thread-id.ts: the runtime's
 *    worker number + 1 where the Worker object has one, as on Bun; else an id it chooses
 *    and passes in the worker's name), and records it dead when it sees the end: the
 *    runtime's 'close' event (Bun), `terminate()` on the returned Worker, the worker's
 *    'exiting' message, or the worker's lifetime Web Lock becoming free.
 *  - Worker side (runs when aio-core loads in a worker whose name carries a chosen id):
 *    sends 'exiting' from `close()`, and where `navigator.locks` exists (Deno, browsers)
 *    holds a Web Lock named after its id for its whole life; the runtime frees it however
 *    the worker ends (crash, kill), and the parent, queued on it, then gets it. The lock is
 *    requested when aio-core loads and held a few milliseconds later; `watched()` resolves
 *    then, for a worker that must not take an aio lock its parent could not see it drop.
 *    It also takes the spawner port a window sends first (spawner-port.ts).
 * The parent records the end when its event loop runs (see robust.ts).
 */
import { AioError, clip, describeValue } from '../base/errors.js';
import { THREAD_NAME_TAG, randomThreadId, threadId, threadIdOfWorker } from '../locks/thread-id.js';
import { type AioWorker, type ThreadExit, type WorkerFactory, getHost } from '../base/host.js';

export type { AioWorker, WorkerFactory };
import { notifyAll } from '../loop/notify.js';
import { acceptSpawner } from './spawner-port.js';
import { type WakeTable, existingWakeTable, wakeTable } from '../base/shared-memory.js';

/** Options of `startWorker()`: the runtime's Worker options; `type` defaults to 'module'. */
export interface StartWorkerOptions {
  /** The worker's name; aio appends the tag that carries the worker's lock id. */
  name?: string;
  /** 'module' (the default) or 'classic'. */
  type?: 'module' | 'classic';
  /** Any other option of the runtime's Worker constructor, passed as is. */
  [option: string]: unknown;
}

type WorkerConstructor = new (url: string | URL, options: object) => AioWorker;

/**
 * The worker `make` constructs, and the script URL it gave the global Worker. The URL is
 * read by standing in for the global Worker while `make` runs: the program's own code
 * constructs the worker (that is what bundlers recognise), and a worker that fails to load
 * tells nothing else where it came from.
 */
function makeWorker(make: WorkerFactory, name: string, WorkerCtor: WorkerConstructor): { worker: AioWorker; url: string | undefined } {
  const scope = globalThis as { Worker?: WorkerConstructor };
  let url: string | undefined;
  const recording: WorkerConstructor = new Proxy(WorkerCtor, {
    construct(target, args, newTarget): object {
      // As the Worker constructor resolves it: against this thread's location.
      try {
        url = new URL(String(args[0]), (globalThis as { location?: { href: string } }).location?.href).href;
      } catch {
        url = String(args[0]);
      }
      return Reflect.construct(target, args, newTarget === recording ? target : newTarget);
    },
  });
  scope.Worker = recording;
  let worker: unknown;
  try {
    worker = make(name);
  } finally {
    scope.Worker = WorkerCtor;
  }
  const w = worker as Partial<AioWorker> | null;
  if (typeof w !== 'object' || w === null || typeof w.postMessage !== 'function' || typeof w.addEventListener !== 'function' || typeof w.terminate !== 'function') {
    throw Object.assign(new TypeError(`The worker factory (options.worker) must return the Worker it constructs; it returned ${describeValue(w)}`), {
      code: 'ERR_INVALID_RETURN_VALUE',
    });
  }
  return { worker: w as AioWorker, url };
}

/** How long a worker asked to end may take to confirm it (see startWatchedWorker) before its end is recorded anyway. */
const END_CONFIRM_MS = 1000;

/** The kind of the messages between the two sides; the parent side swallows them. */
const MESSAGE = 'aio.thread';

interface LifetimeMessage {
  kind: typeof MESSAGE;
  op: 'alive' | 'exiting' | 'crashed';
  /** With 'crashed': the error, as its name and message. */
  error?: string;
}

interface WebLocks {
  request(name: string, callback: () => unknown): Promise<unknown>;
}

function webLocks(): WebLocks | undefined {
  return (globalThis as { navigator?: { locks?: WebLocks } }).navigator?.locks;
}

function lifetimeLock(id: number): string {
  return `aio-thread-lifetime:${id}`;
}

/**
 * What follows a thread's end, in the thread that saw it: the locks it holds report owner
 * death, the contexts it left open are given back with `cause` as their epitaph, and every
 * context is woken so that calls waiting on those contexts fail. Any thread. @internal
 */
export function buryThread(table: WakeTable, id: number, cause: string): void {
  table.markThreadDead(id);
  if (table.reclaimSlotsOf(id, cause) > 0) notifyAll(table);
}

/**
 * Records that the thread whose lock id is `id` (`threadId()` there) ended: the locks it
 * still holds report owner death to their next locker, and the contexts it left open are
 * closed for every sender, with `cause` (default: "thread <id> ended") as the reason their
 * calls fail. For programs that see their workers end by other means than `startWorker()`.
 * Does nothing in a thread that never used aio's shared memory. Any thread of the group.
 */
export function threadEnded(id: number, cause?: string): void {
  const table = existingWakeTable();
  if (table) buryThread(table, id, cause ?? `thread ${id} ended`);
}

/** How `startWatchedWorker` treats the worker. @internal */
export interface WatchOptions {
  /** An uncaught error in the worker ends it (it is terminated): IOThreads, whose errors are crashes. */
  endOnError?: boolean;
  /** What errors call the worker's script (default: "worker script <its URL>"), where the URL alone would not tell the user (a generated entry). */
  script?: string;
}

/**
 * Starts a web Worker on `source` (a script URL, or a factory that constructs the worker
 * with the name it is given) tagged with a lock id (see `startWorker`) and tells `onEnd`
 * once when it ends, however it ends: the runtime's 'close' event (Bun, with the exit
 * code), `terminate()` on the returned object, the worker's own `close()`, its lifetime
 * Web Lock becoming free (a crash or a kill), or, with `endOnError`, an uncaught error,
 * which names the worker's script. The worker's 'aio.thread' messages never reach other
 * listeners. Returns the worker and its lock id. The thread that starts the worker. @internal
 */
export function startWatchedWorker(
  source: string | URL | WorkerFactory,
  options: StartWorkerOptions,
  watch: WatchOptions,
  onEnd: (exit: ThreadExit) => void,
): { worker: AioWorker; id: number } {
  const WorkerCtor = (globalThis as { Worker?: WorkerConstructor }).Worker;
  if (!WorkerCtor) {
    throw new AioError('ERR_AIO_NO_HOST', 'startWorker(): this runtime has no global Worker; on Node use worker_threads (aio-node records the end of every Worker)');
  }
  let chosen = randomThreadId();
  while (chosen === threadId()) chosen = randomThreadId();
  const tag = `${THREAD_NAME_TAG}${chosen}`;
  const name = options.name ? `${options.name} ${tag}` : tag;
  const made = typeof source === 'function' ? makeWorker(source, name, WorkerCtor) : { worker: new WorkerCtor(source, { type: 'module', ...options, name }), url: String(source) };
  const worker = made.worker;
  const script = watch.script ?? (made.url === undefined ? 'the script of the worker its factory constructed' : `worker script ${clip(made.url)}`);
  const id = typeof worker.threadId === 'number' ? threadIdOfWorker(worker.threadId) : chosen;
  let ended = false;
  let gone!: () => void;
  const whenEnded = new Promise<void>((r) => (gone = r));
  let error: Error | undefined;
  let terminated = false;
  let closed = false;
  // Whether a later signal confirms the worker is gone: the runtime's 'close' event (the
  // host says whether it has one), or the lifetime lock the worker holds.
  let confirmed = getHost().workerCloseEvent === true;
  const end = (exit: ThreadExit) => {
    if (ended) return;
    ended = true;
    gone();
    onEnd({ ...(error ? { error } : {}), ...exit, ...(terminated ? { terminated } : {}), ...(closed ? { closed } : {}) });
  };
  // A worker asked to end (terminate(), its close()) may run a little longer: its end is
  // recorded when that is confirmed, so its slots are not given back while it still
  // writes them; without a confirming signal, or if none comes in time, at once.
  const ending = () => {
    if (!confirmed) return end({});
    setTimeout(() => end({}), END_CONFIRM_MS);
  };
  worker.addEventListener('close', (e: { code?: unknown }) => end(typeof e.code === 'number' && !terminated ? { code: e.code } : {}));
  worker.addEventListener('message', (e: { data: unknown; stopImmediatePropagation(): void }) => {
    const m = e.data as Partial<LifetimeMessage> | null;
    if (typeof m !== 'object' || m === null || m.kind !== MESSAGE) return;
    e.stopImmediatePropagation();
    if (m.op === 'exiting') {
      closed = true;
      ending();
    } else if (m.op === 'crashed') {
      if (watch.endOnError) crash(new Error(`${String(m.error)} (in ${script})`));
    } else if (m.op === 'alive') {
      // The worker holds its lifetime lock now: queue for it, to get it when the worker ends.
      const locks = webLocks();
      if (locks) {
        confirmed = true;
        void locks.request(lifetimeLock(id), () => end({}));
      }
    }
  });
  // An uncaught error ends the worker (with endOnError); the first one is its cause.
  const crash = (err: Error) => {
    if (error) return;
    error = err;
    // Browsers keep a worker running after an uncaught error; a crashed thread must not.
    worker.terminate();
  };
  worker.addEventListener('error', (e: { error?: unknown; message?: unknown; preventDefault?(): void }) => {
    if (!watch.endOnError) return;
    e.preventDefault?.();
    // A worker whose script fails to load gets a plain event, without a message.
    const message = typeof e.message === 'string' && e.message !== '' ? e.message : null;
    crash(
      e.error instanceof Error
        ? e.error
        : new Error(
            message === null
              ? `${script} did not load: it was not found, the page's Cross-Origin-Embedder-Policy blocked it, or it (or a module it imports) failed to load or to parse`
              : `${message} (in ${script})`,
          ),
    );
  });
  getHost().workerStarted?.(worker, whenEnded);
  const terminate = worker.terminate;
  worker.terminate = function (this: AioWorker) {
    terminate.call(this);
    if (!error) terminated = true;
    ending();
  };
  return { worker, id };
}

/**
 * Starts a web Worker on `url` (the global `Worker` of Bun, Deno and browsers; module
 * type unless `options.type` says otherwise) and returns it, arranged so that robust
 * locks see its end: a lock it holds when it ends passes to the next locker with
 * OwnerDiedError. Use it for workers that use aio locks; call `terminate()` on the
 * returned object (not on a copy of the method taken before) so the end is recorded at
 * once. The worker's name gets a tag (`aio-thread:<id>`) appended, and the worker posts
 * messages of kind 'aio.thread' that never reach the program's listeners. Throws
 * ERR_AIO_NO_HOST where there is no global Worker (on Node, use `worker_threads`:
 * aio-node records the end of every Worker). The thread that starts the worker.
 */
export function startWorker(url: string | URL, options: StartWorkerOptions = {}): AioWorker {
  const table = wakeTable();
  const started = startWatchedWorker(url, options, {}, (exit) => buryThread(table, started.id, `the worker started by startWorker() ${exit.code !== undefined ? `exited with code ${exit.code}` : 'ended'}`));
  return started.worker;
}

/**
 * The worker side: in a worker whose parent chose its id, announce the worker's end.
 * Resolves once the worker holds its lifetime lock and has said so, so that no code that
 * imports aio runs (and takes a lock) before the parent can see the worker end.
 */
function watchOwnEnd(): Promise<void> | undefined {
  const scope = globalThis as { name?: unknown; postMessage?(m: LifetimeMessage): void; close?(): void } & Record<symbol, Promise<void> | undefined>;
  const post = scope.postMessage;
  if (typeof scope.name !== 'string' || !scope.name.endsWith(`${THREAD_NAME_TAG}${threadId()}`) || typeof post !== 'function') return;
  // Its parent may send a spawner port first (a window: see web-worker-relay.ts).
  acceptSpawner();
  // Once per worker, whichever copy of aio-core loads first: a second copy (a bundler may
  // load two) waits for the same lock instead of queueing behind it forever.
  if (scope[OWN_END] !== undefined) return scope[OWN_END];
  const close = scope.close;
  if (typeof close === 'function') {
    scope.close = function (this: unknown) {
      post.call(scope, { kind: MESSAGE, op: 'exiting' });
      close.call(this);
    };
  }
  const locks = webLocks();
  if (!locks) return;
  scope[OWN_END] = new Promise((held) => {
    void locks.request(lifetimeLock(threadId()), () => {
      post.call(scope, { kind: MESSAGE, op: 'alive' });
      held();
      // Held until the worker ends, however it ends.
      return new Promise(() => {});
    });
  });
  return scope[OWN_END];
}

/**
 * Worker side: throws `err`, having told the parent, which ends the worker as crashed by
 * it (where it watches for that: IOThreads). The throw alone may not reach the parent: a
 * bundler may run a worker's script inside a promise, where it becomes an unhandled
 * rejection, which fires no 'error' event at the Worker. Worker thread. @internal
 */
export function crashWorker(err: Error): never {
  const post = (globalThis as { postMessage?(m: LifetimeMessage): void }).postMessage;
  post?.call(globalThis, { kind: MESSAGE, op: 'crashed', error: `${err.name}: ${err.message}` });
  throw err;
}

/** Where the first copy of aio-core in a worker keeps its wait for the lifetime lock. */
const OWN_END = Symbol.for('aio.thread.lifetime');

// Not awaited at module load: a top-level await in a library stalls bundlers' module
// graphs (and a browser IOThread's entry here), so a worker that must not take a lock
// before its end can be seen awaits watched() first.
const ownEnd = watchOwnEnd();

/**
 * Resolves once this worker's end can be seen by its parent: at once, except in a worker
 * started with `startWorker()` where Web Locks exist (Deno, browsers), where it waits until
 * the worker holds its lifetime lock (a few milliseconds after aio-core loads). A worker
 * killed by means aio cannot see (not `terminate()` on the object `startWorker` returned,
 * not its own `close()`) before then is not seen. Worker thread.
 */
export function watched(): Promise<void> {
  return ownEnd ?? Promise.resolve();
}
