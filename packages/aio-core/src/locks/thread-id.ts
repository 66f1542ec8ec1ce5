/**
 * The id this JS thread writes into the owner word of the locks it holds.
 *
 * Owns: the per-thread id, and how a worker's id is derived so that the thread that
 * started it knows it without being told: robust locks (robust.ts) record an ended thread
 * by this id, and the parent is the one that sees the end. Each thread has its own copy of
 * this module, so a module-level value is per thread. The id is, in order:
 *
 *  - in a worker of a runtime that numbers its threads per process through its
 *    `worker_threads` module (Node, Bun): that number + 1, which the parent reads from
 *    the Worker object (`worker.threadId`);
 *  - in a worker started with `startWorker()` (start-worker.ts) elsewhere (Deno,
 *    browsers): the id the parent chose, carried in the worker's name (`aio-thread:<id>`);
 *  - otherwise (a main thread, a worker started directly): drawn at random once, in the
 *    upper half of the range, where derived ids never go. Two random ids collide with
 *    probability about 2^-29 per pair. Adapters that have a better source install it with
 *    {@link setThreadId} before the thread takes any lock.
 *
 * The id is never 0: 0 in an owner word means "no owner". Ids stay below 2^30, a small
 * integer in every engine: V8 with pointer compression (Chromium) boxes larger ones, and
 * a Mutex passes its holder's id to and from Atomics on every lock and unlock (an id
 * above 2^30 made Chromium's uncontended lock + unlock 31-36 ns instead of 21).
 */
import { checkInteger } from '../base/errors.js';

/** The largest id. */
const MAX_ID = 0x3fffffff;
/** Where random (and parent-chosen) ids start; derived ids stay below. */
const RANDOM_BASE = 0x20000000;
/** How a worker's name carries the id its parent chose. @internal */
export const THREAD_NAME_TAG = 'aio-thread:';

/** A random id for a thread whose id nobody else needs to derive. @internal */
export function randomThreadId(): number {
  return RANDOM_BASE + Math.floor(Math.random() * (MAX_ID - RANDOM_BASE)) + 1;
}

/**
 * The `threadId()` of the worker that its runtime's `worker_threads` numbers `n`
 * (`worker.threadId` in the parent; Node, Bun), for the parent to record its end. Any
 * thread.
 */
export function threadIdOfWorker(n: number): number {
  return n + 1;
}

function initialThreadId(): number {
  const g = globalThis as {
    process?: { getBuiltinModule?(name: string): { isMainThread?: boolean; threadId?: number } | undefined };
    name?: unknown;
  };
  const wt = g.process?.getBuiltinModule?.('node:worker_threads');
  // Deno's module answers isMainThread true in every worker: only a real worker number counts.
  if (wt && wt.isMainThread === false && typeof wt.threadId === 'number' && threadIdOfWorker(wt.threadId) < RANDOM_BASE) return threadIdOfWorker(wt.threadId);
  if (typeof g.name === 'string') {
    const at = g.name.lastIndexOf(THREAD_NAME_TAG);
    const id = at >= 0 ? Number(g.name.slice(at + THREAD_NAME_TAG.length)) : NaN;
    if (Number.isInteger(id) && id > 0 && id <= MAX_ID) return id;
  }
  return randomThreadId();
}

let current = initialThreadId();

/**
 * The id of the calling thread (an integer in [1, 2^30 - 1]), as stored in the owner word
 * of the locks it holds. Any thread (it answers for itself).
 */
export function threadId(): number {
  return current;
}

/**
 * Replaces the calling thread's id (an integer in [1, 2^30 - 1]). For adapters that hand
 * out unique ids; call it before the thread takes any lock, since locks held under the old
 * id can no longer be released by this thread, and a thread whose parent derives its id
 * (see the module comment) is then no longer recognised when it ends. Any thread (it
 * changes its own id only).
 */
export function setThreadId(id: number): void {
  checkInteger('id', id, 1, MAX_ID);
  current = id;
}
