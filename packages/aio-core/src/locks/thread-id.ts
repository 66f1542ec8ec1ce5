/**
 * The id this JS thread writes into the owner word of the locks it holds.
 *
 * Owns: the per-thread id. Each thread (main thread, worker) has its own copy of this
 * module, so a module-level value is per thread. Ids are drawn at random once per thread
 * (a shared counter would need shared memory before any lock exists); two threads collide
 * with probability about 2^-31 per pair. Adapters that do have a shared counter install a
 * unique id with {@link setThreadId} before the thread takes any lock.
 *
 * The id is never 0: 0 in an owner word means "no owner".
 */
import { checkInteger } from '../errors.js';

let current = 1 + Math.floor(Math.random() * 0x7ffffffe);

/**
 * The nonzero int32 id of the calling thread, as stored in the owner word of the locks it
 * holds. Any thread (it answers for itself).
 */
export function threadId(): number {
  return current;
}

/**
 * Replaces the calling thread's id (an integer in [1, 2^31 - 1]). For adapters that hand
 * out unique ids; call it before the thread takes any lock, since locks held under the old
 * id can no longer be released by this thread. Any thread (it changes its own id only).
 */
export function setThreadId(id: number): void {
  checkInteger('id', id, 1, 0x7fffffff);
  current = id;
}
