/**
 * aio-core: QEMU's AioContext event-loop and locking model, runtime-neutral. Runtime
 * adapters (aio-node, aio-bun, aio-deno, aio-browser) re-export everything here.
 *
 * @module aio-core
 */
import { extendContexts } from './context-extensions.js';
import { coEnter, coSchedule } from './coroutine/schedule.js';
import { setMessageHandler, setStreamHandler } from './message-source.js';
import { createIntake } from './record-intake.js';
import { RemoteContext } from './remote-context.js';
import { ThreadPool } from './thread-pool.js';

// The loop knows nothing of the layers built on it: this entry composes them.
extendContexts({
  intake: createIntake,
  threadPool: (ctx, modules) => new ThreadPool(ctx, modules),
  coEnter,
  coSchedule,
  remote: (handle) => new RemoteContext(handle),
  messageHandler: setMessageHandler,
  streamHandler: setStreamHandler,
});

export { AioContext, aioWaitKick, type ContextHandle, type AioContextOptions, type AioContextStats, type EventNotifierOptions } from './context.js';
export type { AioErrorHandler } from './faults.js';
export { Histogram, type HistogramSummary } from './histogram.js';
export type { MessageSourceLike, ReadableStreamLike, ReadableStreamReaderLike } from './context-options.js';
export { HostSource, HostQueue, SourceRegistry, type RemovableSource } from './host-source.js';
export { BottomHalf, RemoteBottomHalf, type BottomHalfHandle } from './bh.js';
export { Clock, type ClockType, SCALE_NS, SCALE_US, SCALE_MS, clockNs, virtualClock } from './clock.js';
export { Timer } from './timer.js';
export { EventNotifier, type EventNotifierHandle } from './notifier.js';
export { RemoteContext } from './remote-context.js';
export { AioError, BhLeakedError, OwnerDiedError, type AioErrorCode } from './errors.js';
export {
  type Host,
  type SpawnedThread,
  type ThreadExit,
  type ThreadChannel,
  type NodeStyleProcess,
  tellBeforeEnding,
  KeepAlive,
  createHost,
  getHost,
  setHost,
  probeCanBlock,
} from './host.js';
export { IOThread } from './iothread.js';
export { type IOThreadOptions, type IOThreadStats, IOTHREAD_POLL_MAX_NS_DEFAULT, IOTHREAD_SETUP_TIMEOUT_MS } from './iothread-options.js';
export { runIOThread } from './iothread-runner.js';
export { registerFunction, unregisterFunction } from './functions.js';
export { ThreadPool, type ThreadPoolRequest, POOL_IDLE_TIMEOUT_MS } from './thread-pool.js';
export { spawnWebWorker, webWorkerParent } from './web-worker.js';
export { relayedSpawn, serveSpawns } from './web-worker-relay.js';
export { spawnerPort, type MessagePortLike } from './spawner-port.js';
export { spawnWorkerThread, workerThreadParent, type NodeStyleWorker, type NodeStylePort } from './worker-threads.js';
export { startWorker, threadEnded, watched, type AioWorker, type StartWorkerOptions } from './start-worker.js';
export {
  Coroutine,
  awaitPromise,
  sleep,
  CoMutex,
  type CoMutexHandle,
  CoRwLock,
  CoQueue,
  type CoLockable,
  type Waitable,
} from './coroutine/index.js';
export {
  Mutex,
  RecMutex,
  Cond,
  Semaphore,
  Event,
  LockCnt,
  threadId,
  threadIdOfWorker,
  type MutexHandle,
  type RecMutexHandle,
  type CondHandle,
  type SemaphoreHandle,
  type EventHandle,
  type LockCntHandle,
  type LockHandle,
  type AbortSignalLike,
} from './locks/index.js';
export { setAioDebug } from './context-lock.js';
