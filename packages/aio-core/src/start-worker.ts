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
 *    the worker ends (crash, kill), and the parent, queued on it, then gets it. Loading
 *    aio-core there waits until the lock is held, so the worker cannot take an aio lock
 *    that its parent could not see it drop.
 * The parent records the end when its event loop runs (see robust.ts).
 */
import { AioError } from './errors.js';
import { THREAD_NAME_TAG, randomThreadId, threadId, threadIdOfWorker } from './locks/thread-id.js';
import { wakeTable } from './shared-memory.js';

/** What `startWorker()` returns: the runtime's own `Worker` object, seen through the members aio uses. */
export interface AioWorker {
  postMessage(message: unknown, transfer?: unknown[]): void;
  terminate(): void;
  addEventListener(type: string, listener: (event: never) => void, options?: unknown): void;
  removeEventListener(type: string, listener: (event: never) => void, options?: unknown): void;
  /** The runtime's worker number, where it has one (Bun). */
  readonly threadId?: number;
}

/** Options of `startWorker()`: the runtime's Worker options; `type` defaults to 'module'. */
export interface StartWorkerOptions {
  /** The worker's name; aio appends the tag that carries the worker's lock id. */
  name?: string;
  /** 'module' (the default) or 'classic'. */
  type?: 'module' | 'classic';
  /** Any other option of the runtime's Worker constructor, passed as is. */
  [option: string]: unknown;
}

/** The kind of the messages between the two sides; the parent side swallows them. */
const MESSAGE = 'aio.thread';

interface LifetimeMessage {
  kind: typeof MESSAGE;
  op: 'alive' | 'exiting';
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
 * Records that the thread whose lock id is `id` (`threadId()` there) ended, so the locks
 * it still holds report owner death to their next locker. For programs that see their
 * workers end by other means than `startWorker()`. Any thread of the group.
 */
export function threadEnded(id: number): void {
  wakeTable().markThreadDead(id);
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
 * aio-node records every Worker's end). The thread that starts the worker.
 */
export function startWorker(url: string | URL, options: StartWorkerOptions = {}): AioWorker {
  const WorkerCtor = (globalThis as { Worker?: new (url: string | URL, options: object) => AioWorker }).Worker;
  if (!WorkerCtor) {
    throw new AioError('ERR_AIO_NO_HOST', 'startWorker(): this runtime has no global Worker; on Node use worker_threads (aio-node records the end of every Worker)');
  }
  let chosen = randomThreadId();
  while (chosen === threadId()) chosen = randomThreadId();
  const tag = `${THREAD_NAME_TAG}${chosen}`;
  const worker = new WorkerCtor(url, { type: 'module', ...options, name: options.name ? `${options.name} ${tag}` : tag });
  const id = typeof worker.threadId === 'number' ? threadIdOfWorker(worker.threadId) : chosen;
  const table = wakeTable();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    table.markThreadDead(id);
  };
  worker.addEventListener('close', end);
  worker.addEventListener('message', (e: { data: unknown; stopImmediatePropagation(): void }) => {
    const m = e.data as Partial<LifetimeMessage> | null;
    if (typeof m !== 'object' || m === null || m.kind !== MESSAGE) return;
    e.stopImmediatePropagation();
    if (m.op === 'exiting') end();
    // The worker holds its lifetime lock now: queue for it, to get it when the worker ends.
    else if (m.op === 'alive') void webLocks()?.request(lifetimeLock(id), end);
  });
  const terminate = worker.terminate;
  worker.terminate = function (this: AioWorker) {
    terminate.call(this);
    end();
  };
  return worker;
}

/**
 * The worker side: in a worker whose parent chose its id, announce the worker's end.
 * Resolves once the worker holds its lifetime lock and has said so, so that no code that
 * imports aio runs (and takes a lock) before the parent can see the worker end.
 */
function watchOwnEnd(): Promise<void> | undefined {
  const scope = globalThis as { name?: unknown; postMessage?(m: LifetimeMessage): void; close?(): void };
  const post = scope.postMessage;
  if (typeof scope.name !== 'string' || !scope.name.endsWith(`${THREAD_NAME_TAG}${threadId()}`) || typeof post !== 'function') return;
  const close = scope.close;
  if (typeof close === 'function') {
    scope.close = function (this: unknown) {
      post.call(scope, { kind: MESSAGE, op: 'exiting' });
      close.call(this);
    };
  }
  const locks = webLocks();
  if (!locks) return;
  return new Promise((held) => {
    void locks.request(lifetimeLock(threadId()), () => {
      post.call(scope, { kind: MESSAGE, op: 'alive' });
      held();
      // Held until the worker ends, however it ends.
      return new Promise(() => {});
    });
  });
}

// Top-level await only in a worker started by startWorker() where Web Locks exist.
const ownEnd = watchOwnEnd();
if (ownEnd) await ownEnd;
