/**
 * Coroutines and coroutine locks of aio-core (QEMU's qemu-coroutine*.c, aio_co_* and
 * qemu-coroutine-lock.c).
 *
 * Owns nothing itself: it re-exports the public names. Each concept lives in its own
 * file: coroutine.ts (the coroutine and its enter loop), schedule.ts (coSchedule,
 * coEnter), sleep.ts (sleep, awaitPromise), waitable.ts (the Waitable type), co-mutex.ts,
 * co-rwlock.ts, co-queue.ts.
 */
export { Coroutine } from './coroutine.js';
export { awaitPromise, sleep } from './sleep.js';
export type { CoLockable, Waitable } from './waitable.js';
export { CoMutex, type CoMutexHandle } from './co-mutex.js';
export { CoRwLock } from './co-rwlock.js';
export { CoQueue } from './co-queue.js';
