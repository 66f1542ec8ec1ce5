/**
 * aio-core: QEMU's AioContext event-loop and locking model, runtime-neutral. Runtime
 * adapters (aio-node, aio-bun, aio-deno, aio-browser) re-export everything here.
 *
 * @module aio-core
 */
import { claimThread } from './base/one-copy.js';
import type { AioContext } from './loop/context.js';
import { extendContexts } from './loop/context-extensions.js';
import { coEnter, coSchedule } from './coroutine/schedule.js';
import { setMessageHandler, setStreamHandler } from './loop/message-source.js';
import { createIntake } from './threads/record-intake.js';
import { RemoteContextView } from './threads/remote-context.js';
import { ContextThreadPool } from './threads/thread-pool.js';

// Before this copy composes anything: a second copy in this thread fails here.
claimThread(import.meta.url);

// The loop knows nothing of the layers built on it: this entry composes them.
extendContexts({
  intake: createIntake,
  threadPool: (ctx: AioContext, modules) => new ContextThreadPool(ctx, modules),
  coEnter,
  coSchedule,
  remote: (handle) => new RemoteContextView(handle),
  messageHandler: setMessageHandler,
  streamHandler: setStreamHandler,
});

export { AioContext, aioWaitKick, type AioContextOptions, type AioContextStats, type EventNotifierOptions } from './loop/context.js';
export type { ContextHandle } from './loop/context-base.js';
export type { AioErrorHandler } from './loop/faults.js';
export { Histogram, type HistogramSummary } from './base/histogram.js';
export type { MessageSourceLike, ReadableStreamLike, ReadableStreamReaderLike } from './loop/context-options.js';
export { REPLY_POLL_MAX_NS_DEFAULT } from './loop/reply-poll.js';
export { HostSource, HostQueue, SourceRegistry, type RemovableSource } from './loop/host-source.js';
export { BottomHalf, RemoteBottomHalf, type BottomHalfHandle } from './loop/bh.js';
export { Clock, type ClockType, SCALE_NS, SCALE_US, SCALE_MS, clockNs, virtualClock } from './loop/clock.js';
export { Timer } from './loop/timer.js';
export { EventNotifier, type EventNotifierHandle } from './loop/notifier.js';
export { AioError, BhLeakedError, OwnerDiedError, type AioErrorCode } from './base/errors.js';
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
} from './base/host.js';
export { IOThread } from './threads/iothread.js';
export { type IOThreadOptions, type IOThreadStats, IOTHREAD_POLL_MAX_NS_DEFAULT, IOTHREAD_SETUP_TIMEOUT_MS } from './threads/iothread-options.js';
export { runIOThread } from './threads/iothread-runner.js';
export { defineFunctions, registerFunction, unregisterFunction } from './threads/functions.js';
export { POOL_IDLE_TIMEOUT_MS } from './threads/thread-pool.js';
export type { AnyFunction, AnyFunctions, CallArgs, CallResult, ContextCoroutine, FunctionName, RemoteContext, ThreadPool, ThreadPoolRequest } from './loop/services.js';
export { runMadeWorkerIOThread, spawnWebWorker, webWorkerParent } from './threads/web-worker.js';
export { relayedSpawn, serveSpawns } from './threads/web-worker-relay.js';
export { spawnerPort, type MessagePortLike } from './threads/spawner-port.js';
export { spawnWorkerThread, workerThreadParent, type NodeStyleWorker, type NodeStylePort } from './threads/worker-threads.js';
export { startWorker, threadEnded, watched, type AioWorker, type StartWorkerOptions, type WorkerFactory } from './threads/start-worker.js';
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
  LockGuard,
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
export { setAioDebug } from './loop/context-lock.js';
