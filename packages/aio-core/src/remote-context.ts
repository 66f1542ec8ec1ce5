/**
 * RemoteContext: a context seen from another thread through its handle. It can do what
 * QEMU lets any thread do to a foreign AioContext: notify it (aio_notify). Later layers
 * add the context lock, cross-thread oneshots and calls.
 *
 * Every method may be called from any thread.
 */
import { AioError, checkOptions } from './errors.js';
import { notifySlot } from './notify.js';
import { type WakeTable, adoptWakeTable } from './shared-memory.js';

/** The structured-cloneable form of an AioContext. */
export interface ContextHandle {
  readonly kind: 'aio.AioContext';
  readonly name: string;
  readonly table: SharedArrayBuffer;
  readonly slot: number;
  readonly generation: number;
}

/** A context of any thread, reached through its handle. Any thread. */
export class RemoteContext {
  /** The context's name. */
  readonly name: string;
  /** The handle this view was built from (send it on to other threads). */
  readonly handle: ContextHandle;
  readonly #table: WakeTable;
  readonly #slot: number;
  readonly #generation: number;

  constructor(handle: ContextHandle) {
    checkOptions('handle', handle);
    if (handle?.kind !== 'aio.AioContext' || !(handle.table instanceof SharedArrayBuffer)) {
      throw new AioError('ERR_AIO_BAD_HANDLE', 'AioContext.from(): the "handle" argument is not an AioContext handle');
    }
    this.name = handle.name;
    this.handle = handle;
    this.#table = adoptWakeTable(handle.table);
    this.#slot = handle.slot;
    this.#generation = handle.generation;
  }

  /** False once the context was closed. Any thread. */
  get alive(): boolean {
    return this.#table.generation(this.#slot) === this.#generation;
  }

  /** Wakes the context's poll (aio_notify). Throws ERR_AIO_CLOSED if it was closed. Any thread. */
  notify(): void {
    if (!this.alive) throw new AioError('ERR_AIO_CLOSED', `RemoteContext.notify(): AioContext '${this.name}' is closed`);
    notifySlot(this.#table, this.#slot);
  }
}
