/**
 * What every context is before it is an event loop, and what every layer names: its
 * identity in the wake table (slot, generation, handle), the notifier side of its wake
 * protocol for its own thread, its context lock, its fault reports, and whether it is
 * closed. AioContext (context.ts) builds the loop on it: the two are one object, split
 * along QEMU's lines (the context struct and its lock here, the loop's parts there).
 */
import { ContextLock } from './context-lock.js';
import { AioError, checkFunction } from '../base/errors.js';
import { type AioErrorHandler, FaultReports } from './faults.js';
import type { AbortSignalLike, FutexOps } from '../locks/futex.js';
import { threadId } from '../locks/thread-id.js';
import { notifyWake, opsOf } from './notify.js';
import { Slot, type WakeTable, wakeTable } from '../base/shared-memory.js';

/** The structured-cloneable form of an AioContext. */
export interface ContextHandle {
  readonly kind: 'aio.AioContext';
  readonly name: string;
  readonly table: SharedArrayBuffer;
  readonly slot: number;
  readonly generation: number;
}

/** The base of {@link AioContext}: identity, context lock, notify, fault reports, closed state. */
export abstract class ContextBase {
  /** Name used in errors and leak reports. */
  readonly name: string;
  /** The wake table this context lives in. @internal */
  readonly _table: WakeTable;
  /** This context's slot in the wake table. @internal */
  readonly _slot: number;
  /** @internal */
  protected readonly _generation: number;
  /** `LoopAtomicsOps` over the table, and the first word of this context's slot. @internal */
  protected readonly _ops: FutexOps;
  /** @internal */
  protected readonly _base: number;
  /** @internal */
  protected readonly _lock: ContextLock;
  /** @internal */
  protected readonly _faults = new FaultReports();
  /**
   * Whether another thread may know this context's slot: its handle or a BH's handle was
   * taken, a reply or hand-off is or was awaited here, a oneshot sent from here names it
   * for its failure report, a notifier is linked to it, or it asked a reader for room.
   * Until then no other thread can bring it work, so a non-blocking pass (poll(false))
   * need not read its notify word (poll.ts). Set by this thread only, never cleared. @internal
   */
  readonly _exposure = { exposed: false };
  #closed = false;
  #handle: ContextHandle | null = null;

  /** Claims a slot of this thread group's wake table for a context named `name` (checked by the caller). */
  protected constructor(name: string) {
    this.name = name;
    const table = (this._table = wakeTable());
    [this._slot, this._generation] = table.claim(threadId());
    this._ops = opsOf(table);
    this._base = table.base(this._slot);
    this._lock = new ContextLock(table, this._slot, name);
  }

  /** This context's slot, for a record or a handle another thread will use (see `_exposure`). @internal */
  _slotForOthers(): number {
    this._exposure.exposed = true;
    return this._slot;
  }

  /** Marks the context closed (its close() does, after it let go of everything else). @internal */
  protected _markClosed(): void {
    this.#closed = true;
  }

  /** Structured-cloneable handle; `AioContext.from(handle)` in another thread. */
  get handle(): ContextHandle {
    this.assertOpen('AioContext.handle');
    return (this.#handle ??= {
      kind: 'aio.AioContext',
      name: this.name,
      table: this._table.sab,
      slot: this._slotForOthers(),
      generation: this._generation,
    });
  }

  /**
   * Sets the handler told of faults this context survives, in its poll: a malformed record
   * it dropped (ERR_AIO_BAD_RECORD), and a oneshot it sent that failed in the target thread,
   * where nobody waits for it (no such function, or it threw: ERR_AIO_REQUEST_FAILED); null restores the default, which logs the context's
   * first fault with console.error and only counts the rest (`stats().faults`). A handler
   * that throws makes the poll throw, like a BH callback. Home thread.
   */
  setErrorHandler(handler: AioErrorHandler | null): void {
    if (handler !== null) checkFunction('handler', handler);
    this._faults.setHandler(handler);
  }

  /**
   * Reports a fault the context survived: counted now, handed to the error handler in the
   * next BH phase (so a handler runs where callbacks run, and one that throws cannot lose
   * the records taken with it). Every fault goes this way, whatever its code. This thread.
   * @internal
   */
  _report(err: AioError): void {
    if (this.#closed) return;
    this._faults.add(err);
    this.notify();
  }

  /** Reports a malformed record or message that was dropped; `problem` says what and why. This thread. @internal */
  _badRecord(problem: string): void {
    this._report(new AioError('ERR_AIO_BAD_RECORD', `AioContext '${this.name}': ${problem}`));
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws ERR_AIO_CLOSED when the context is closed. @internal */
  assertOpen(what: string): void {
    if (this.#closed) throw new AioError('ERR_AIO_CLOSED', `${what}: AioContext '${this.name}' is closed`);
  }

  /**
   * Wakes the context: a blocking poll returns (aio_notify). A notify alone is not
   * progress. Home thread; other threads use the remote handle's notify().
   */
  notify(): void {
    // notifyWake() with its first two steps repeated here, so the common case (nobody about
    // to sleep) is two atomics and no call: JSC did not inline notifyWake() on timer
    // arming (Bun: timer modNs + del 14.3 -> 19.2 ns). Storing Notified twice on the slow
    // path is harmless (it is a flag).
    const f = this._ops;
    const b = this._base;
    f.store(b + Slot.Notified, 1);
    if (f.load(b + Slot.NotifyMe) !== 0) notifyWake(f, b);
  }

  // ---------------------------------------------------------------- the context lock

  /**
   * Takes the context lock (aio_context_acquire), blocking; recursive. The context's own
   * loop (an IOThread's) holds it while dispatching and drops it while sleeping, so holding
   * it keeps the loop's callbacks from running. If a thread ended holding it, throws
   * OwnerDiedError and the caller holds it (once). Throws ERR_AIO_CANNOT_BLOCK where it
   * would wait on a thread that may not block, and ERR_AIO_LOCK_ORDER in debug mode when a
   * thread other than the main one already holds another context's lock. Any thread
   * (others through `AioContext.from(handle)`).
   */
  acquire(): void {
    this._lock.acquire();
  }

  /** Releases one level of the context lock (aio_context_release); ERR_AIO_NOT_OWNER if not held. */
  release(): void {
    this._lock.release();
  }

  /** Takes the context lock if that needs no wait; returns whether it did. */
  tryAcquire(): boolean {
    return this._lock.tryAcquire();
  }

  /**
   * Takes the context lock without blocking the thread; `signal` abandons the wait. Rejects
   * with OwnerDiedError, the caller holding it, if a thread ended holding it.
   */
  acquireAsync(signal?: AbortSignalLike): Promise<void> {
    return this._lock.acquireAsync(signal);
  }
}
