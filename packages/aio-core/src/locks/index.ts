/**
 * The shared-memory locks of aio-core (QEMU's QemuMutex, QemuRecMutex, QemuCond,
 * QemuSemaphore, QemuEvent and QemuLockCnt), transferable between threads by handle.
 *
 * Owns nothing itself: it re-exports the public classes and types. The algorithms and the
 * `FutexOps` layer they are written against live in the per-primitive files and in
 * futex.ts (see there for how one copy of each algorithm serves the blocking path, the
 * async path and the model checker).
 */
export { Mutex, type MutexHandle } from './mutex.js';
export { RecMutex, type RecMutexHandle } from './rec-mutex.js';
export { Cond, type CondHandle } from './cond.js';
export { Semaphore, type SemaphoreHandle } from './semaphore.js';
export { Event, type EventHandle } from './event.js';
export { LockCnt, type LockCntHandle } from './lockcnt.js';
export { LockGuard } from './guard.js';
export { threadId, setThreadId, threadIdOfWorker } from './thread-id.js';
export type { LockHandle } from './handle.js';
export type { AbortSignalLike } from './futex.js';
