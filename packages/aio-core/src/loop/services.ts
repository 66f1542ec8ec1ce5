/**
 * What a context hands out that the layers above the loop implement, as the interfaces
 * the loop names: the thread pool (threads/thread-pool.ts), a context of another thread
 * reached through its handle (threads/remote-context.ts), and the coroutine a context
 * enters (coroutine/coroutine.ts). The loop returns and accepts these without importing
 * the layers that build them; the entry module installs the builders
 * (context-extensions.ts).
 *
 * It also owns the types of typed calls: a function map `F` (the functions a thread
 * registers, by name) makes `call(name, ...args)` and `submit(name, ...args)` check the
 * name and arguments and give the function's awaited result type.
 */
import type { AbortSignalLike } from '../locks/futex.js';
import type { ContextHandle } from './context-base.js';

// biome-ignore lint/suspicious/noExplicitAny: a function of any parameters, as a function map's values may be.
export type AnyFunction = (...args: any[]) => unknown;

/**
 * The function map of untyped calls: any name, any arguments, an `unknown` result. The
 * default type parameter of {@link RemoteContext}, {@link ThreadPool} and IOThread.
 */
export type AnyFunctions = Record<string, AnyFunction>;

/**
 * The names of `F` whose values are functions: what a typed `call()` accepts. `F` is the
 * type of an object of registered functions (`defineFunctions` returns one), or of a
 * module namespace that exports its functions under their registered names
 * (`typeof import('./disk.js')`; its other exports are left out).
 */
export type FunctionName<F> = Extract<{ [K in keyof F]: F[K] extends AnyFunction ? K : never }[keyof F], string>;

/** The parameters of the function `F[K]`: what a typed call passes after the name. */
export type CallArgs<F, K extends keyof F> = F[K] extends (...args: infer A) => unknown ? A : never;

/** What a typed call of `F[K]` resolves with: the function's result, awaited. */
export type CallResult<F, K extends keyof F> = F[K] extends (...args: never[]) => infer R ? Awaited<R> : never;

/**
 * A context of any thread, reached through its handle (`AioContext.from(handle)`, an
 * IOThread's `context`). It offers what QEMU lets any thread do to a foreign AioContext:
 * notify it, run a registered function in it once, run one and wait for its result, and
 * take its context lock. `F` types the calls (see {@link FunctionName}). Every member may
 * be used from any thread.
 */
export interface RemoteContext<F = AnyFunctions> {
  /** The context's name. */
  readonly name: string;
  /** The handle this view was built from (send it on to other threads). */
  readonly handle: ContextHandle;
  /** False once the context was closed. */
  readonly alive: boolean;
  /** Wakes the context's poll (aio_notify). Throws ERR_AIO_CLOSED if it was closed. */
  notify(): void;
  /**
   * Runs the function its thread registered as `name`, once, in the context's next poll
   * (aio_bh_schedule_oneshot). Arguments travel as JSON through shared memory (or by
   * structured clone through an IOThread's port when JSON cannot carry them unchanged).
   */
  scheduleOneshot<K extends FunctionName<F>>(name: K, ...args: CallArgs<F, K>): void;
  /**
   * Runs the function registered as `name` in the context and resolves with its result
   * (or rejects with its error's message and stack). The reply lands in the caller's
   * current context, so that context must be polled.
   */
  call<K extends FunctionName<F>>(name: K, ...args: CallArgs<F, K>): Promise<CallResult<F, K>>;
  /**
   * Takes the context lock, blocking; recursive (aio_context_acquire). If a thread ended
   * holding it, throws OwnerDiedError and the caller holds it. A thread that may block.
   */
  acquire(): void;
  /** Releases one level of the context lock. The holder. */
  release(): void;
  /** Takes the context lock if free (or held by this thread); returns whether it did. */
  tryAcquire(): boolean;
  /**
   * Takes the context lock without blocking the thread; rejects with OwnerDiedError, the
   * caller holding it, if a thread ended holding it.
   */
  acquireAsync(signal?: AbortSignalLike): Promise<void>;
}

/** A request submitted with `submitAio`; only a request still queued can be cancelled. */
export interface ThreadPoolRequest {
  /**
   * Cancels the request if no worker took it yet (its callback then gets ERR_AIO_CANCELLED)
   * and returns true; returns false when it is already running or done.
   */
  cancel(): boolean;
}

/**
 * The thread pool of a context (QEMU's ThreadPool; `ctx.threadPool`): runs registered
 * functions on worker threads and delivers each completion in the context's poll. `F`
 * types the submissions (see {@link FunctionName}; `typed<F>()` gives a typed view).
 * Every member is for the context's home thread.
 */
export interface ThreadPool<F = AnyFunctions> {
  /** Workers running now (busy or idle). */
  readonly threads: number;
  /** Requests waiting for a worker. */
  readonly queued: number;
  /**
   * Sets the number of workers kept (`min`, default 0), the most that run (`max`, default
   * 64), and the modules workers load. Starts workers up to `min`.
   */
  setParams(p: { min?: number; max?: number; modules?: (string | URL)[] }): void;
  /** Runs `name(...args)` on a worker; resolves with its result (thread_pool_submit_co). */
  submit<K extends FunctionName<F>>(name: K, ...args: CallArgs<F, K>): Promise<CallResult<F, K>>;
  /**
   * Runs `name(...args)` on a worker and calls `cb` in the context's poll when it is done
   * (thread_pool_submit_aio). The callback is never called before submitAio returns.
   */
  submitAio<K extends FunctionName<F>>(
    name: K,
    args: CallArgs<F, K>,
    cb: (err: Error | null, ret?: CallResult<F, K>) => void,
  ): ThreadPoolRequest;
  /**
   * Stops every worker, also those still starting (they are ended at once); queued
   * requests fail with ERR_AIO_CLOSED (thread_pool_free).
   */
  shutdown(): Promise<void>;
  /**
   * This pool, typed by the function map `G` (the pool's workers register those
   * functions): a view for the type checker only, the same object at run time.
   */
  typed<G>(): ThreadPool<G>;
}

/**
 * A coroutine as a context sees it (coEnter, coSchedule): the coroutine layer's
 * `Coroutine` is the one implementation, and the context's methods refuse anything else.
 */
export interface ContextCoroutine {
  /** Whether it runs now (qemu_coroutine_entered). */
  readonly entered: boolean;
  /** Whether it returned or threw. */
  readonly done: boolean;
  /** Runs it in the current context until it yields or returns. */
  enter(): void;
  /** Restarts it in the context it last ran in (aio_co_wake). */
  wake(): void;
}
