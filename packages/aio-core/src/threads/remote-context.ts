/**
 * The RemoteContext (loop/services.ts) of a context seen from any thread through its handle. It offers what QEMU
 * lets any thread do to a foreign AioContext: notify it (aio_notify), run a function in it
 * (aio_bh_schedule_oneshot), and run one and wait for the result (aio_wait_bh_oneshot,
 * here asynchronous). Functions cross threads by name: the target thread registers them
 * with `registerFunction`.
 *
 * Every method may be called from any thread.
 */
import { type Target, sendCall, sendOneshot } from './calls.js';
import { ContextLock } from '../loop/context-lock.js';
import type { ContextHandle } from '../loop/context-base.js';
import type { AnyFunctions, CallArgs, CallResult, FunctionName, RemoteContext } from '../loop/services.js';
import type { AbortSignalLike } from '../locks/futex.js';
import { AioError, badHandle, checkOptions, clip, describeValue } from '../base/errors.js';
import { notifySlot } from '../loop/notify.js';
import type { FallbackChannel } from './outbox.js';
import { type WakeTable, adoptWakeTable, tableFieldsProblem } from '../base/shared-memory.js';

/** A context of any thread, reached through its handle. Any thread. */
export class RemoteContextView<F = AnyFunctions> implements RemoteContext<F> {
  /** The context's name. */
  readonly name: string;
  /** The handle this view was built from (send it on to other threads). */
  readonly handle: ContextHandle;
  readonly #target: Target;
  #lock: ContextLock | null = null;

  /**
   * Builds a view from a handle. `fallback` delivers records that shared memory cannot
   * carry (IOThreads pass their message port). Prefer `AioContext.from(handle)`.
   */
  constructor(handle: ContextHandle, fallback: FallbackChannel | null = null) {
    checkOptions('handle', handle);
    const problem =
      handle?.kind !== 'aio.AioContext'
        ? `its kind is ${describeValue(handle?.kind)}, not 'aio.AioContext'`
        : typeof handle.name !== 'string'
          ? `its "name" is ${describeValue(handle.name)}, not a string`
          : tableFieldsProblem(handle, true);
    if (problem !== null) throw badHandle('AioContext.from()', 'aio.AioContext', problem);
    this.name = handle.name;
    this.handle = handle;
    const table: WakeTable = adoptWakeTable(handle.table);
    // Error messages quote the name: one from another thread may be of any length.
    this.#target = { table, slot: handle.slot, generation: handle.generation, name: clip(handle.name), fallback };
  }

  /** False once the context was closed. Any thread. */
  get alive(): boolean {
    return this.#target.table.generation(this.#target.slot) === this.#target.generation;
  }

  /** Wakes the context's poll (aio_notify). Throws ERR_AIO_CLOSED if it was closed. Any thread. */
  notify(): void {
    if (!this.alive) throw new AioError('ERR_AIO_CLOSED', `RemoteContext.notify(): AioContext '${this.#target.name}' is closed`);
    notifySlot(this.#target.table, this.#target.slot);
  }

  /**
   * Runs the function its thread registered as `name`, once, in this context's next poll
   * (aio_bh_schedule_oneshot). Arguments travel as JSON through shared memory. Any thread.
   */
  scheduleOneshot<K extends FunctionName<F>>(name: K, ...args: CallArgs<F, K>): void {
    sendOneshot(this.#target, name, args);
  }

  /**
   * Runs the function registered as `name` in this context and resolves with its result
   * (or rejects with its error's message and stack). The reply lands in the caller's
   * current context. Any thread.
   */
  call<K extends FunctionName<F>>(name: K, ...args: CallArgs<F, K>): Promise<CallResult<F, K>> {
    return sendCall(this.#target, name, args) as Promise<CallResult<F, K>>;
  }

  get #ctxLock(): ContextLock {
    if (!this.alive) throw new AioError('ERR_AIO_CLOSED', `RemoteContext: AioContext '${this.#target.name}' is closed`);
    return (this.#lock ??= new ContextLock(this.#target.table, this.#target.slot, this.#target.name));
  }

  /**
   * Takes the context lock, blocking; recursive (aio_context_acquire). If a thread ended
   * holding it, throws OwnerDiedError and the caller holds it. Any thread that may block.
   */
  acquire(): void {
    this.#ctxLock.acquire();
  }

  /** Releases one level of the context lock. The holder. */
  release(): void {
    this.#ctxLock.release();
  }

  /** Takes the context lock if free (or held by this thread); returns whether it did. Any thread. */
  tryAcquire(): boolean {
    return this.#ctxLock.tryAcquire();
  }

  /**
   * Takes the context lock without blocking the thread; rejects with OwnerDiedError, the
   * caller holding it, if a thread ended holding it. Any thread.
   */
  acquireAsync(signal?: AbortSignalLike): Promise<void> {
    return this.#ctxLock.acquireAsync(signal);
  }

  /** The slot and table of the target. @internal */
  get _target(): Target {
    return this.#target;
  }
}
