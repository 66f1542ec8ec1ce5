/**
 * Bottom halves (QEMU's QEMUBH and its flag protocol, util/async.c).
 *
 * A bottom half is a callback that runs once in its context's next poll after it is
 * scheduled, in the BH phase (before handlers and timers). Scheduling is idempotent
 * until it runs; a BH scheduled from its own callback runs in the next poll, not the
 * current one. Flags:
 *   PENDING    on a list, waiting for the BH phase
 *   SCHEDULED  run the callback when dequeued
 *   DELETED    free when dequeued, without running
 *   ONESHOT    free after running
 *   IDLE       its run is not progress, and it caps a blocking wait at 10 ms
 *
 * A BH lives in its context's home thread. Its flags move to shared memory the first time
 * its `handle` is taken, so other threads can `schedule()` it through `BottomHalf.from()`.
 *
 * The remote BH list: a thread that schedules a shared BH and sets its PENDING bit pushes
 * the BH's id onto a lock-free stack whose head is in the context's wake-table slot
 * (Slot.RemoteBhHead), linking through the NEXT word of the BH's own block; the home
 * thread takes the whole stack at once in its BH phase (bh-list.ts). Only the setter of
 * PENDING pushes, and the home thread clears PENDING only after it took the BH off the
 * stack, so a BH is on the stack at most once and a push never meets an id that is being
 * popped (no ABA). Written once against `FutexOps` (remoteBhSchedule, remoteBhTake,
 * remoteBhNext, bhDequeue) and model-checked (test/conformance/locks/model-remote-bh.test.ts).
 */
import { AioError, badHandle, checkOptions, clip, describeValue } from '../base/errors.js';
import { LoopAtomicsOps } from '../locks/atomics-ops.js';
import type { FutexOps } from '../locks/futex.js';
import { notifySlot, opsOf } from './notify.js';
import { Slot, type WakeTable, adoptWakeTable, allocShared, tableFieldsProblem } from '../base/shared-memory.js';

export const BH_PENDING = 1 << 0;
export const BH_SCHEDULED = 1 << 1;
export const BH_DELETED = 1 << 2;
export const BH_ONESHOT = 1 << 3;
export const BH_IDLE = 1 << 4;

/** Word offsets of a shared BH block: its flags, and the id of the BH after it on the remote list. */
export const BhWord = { Flags: 0, Next: 1, Size: 2 } as const;
const FLAGS = BhWord.Flags;
/** Bytes of a shared BH block. */
const BLOCK_BYTES = BhWord.Size * 4;

// ---------------------------------------------------------------------------------------
// The flag protocol across threads (deterministic, see locks/futex.ts)

/**
 * Schedules the shared BH whose block starts at word `b` of `bh`, with id `id`: sets
 * PENDING and `bits` (SCHEDULED, or a model's marks), and, if this call set PENDING,
 * pushes the id onto the remote list whose head is word `head` of `list`. Returns the old
 * flags; a DELETED BH is not pushed (the caller reports it). Any thread.
 */
export function remoteBhSchedule(bh: FutexOps, b: number, list: FutexOps, head: number, id: number, bits: number): number {
  // Pairs with the fetch-and in bhDequeue(): the BH runs after this, at least once.
  const old = bh.or(b + BhWord.Flags, BH_PENDING | bits);
  if (old & (BH_PENDING | BH_DELETED)) return old;
  for (;;) {
    const first = list.load(head);
    // Linked before it is published: the home thread reads NEXT after it took the id.
    bh.store(b + BhWord.Next, first);
    // Pairs with the exchange in remoteBhTake().
    if (list.compareExchange(head, first, id) === first) return old;
  }
}

/**
 * Takes every BH pushed onto the remote list at word `head` of `list`; returns the id of
 * the newest (0 when the list is empty). The others follow through remoteBhNext(). Home
 * thread of the context.
 */
export function remoteBhTake(list: FutexOps, head: number): number {
  if (list.load(head) === 0) return 0;
  // An exchange, not a store: a push between a load and a store would be lost. Pairs with
  // the compare-exchange in remoteBhSchedule().
  return list.exchange(head, 0);
}

/**
 * The id of the BH after the one whose block starts at word `b` of `bh` on a list that
 * remoteBhTake() took (0 after the last). Home thread of the context.
 */
export function remoteBhNext(bh: FutexOps, b: number): number {
  // Pairs with the store of NEXT in remoteBhSchedule(), made before the push.
  return bh.load(b + BhWord.Next);
}

/**
 * Takes the BH whose block starts at word `b` of `f` off its list for a run: clears
 * everything but DELETED and ONESHOT, and returns the flags it had. Home thread.
 */
export function bhDequeue(f: FutexOps, b: number): number {
  // Pairs with the fetch-or in remoteBhSchedule(): a schedule from here on sets PENDING
  // again and pushes the BH for another run.
  return f.and(b + BhWord.Flags, BH_DELETED | BH_ONESHOT);
}

/** What a bottom half needs from its context. @internal */
export interface BhOwner {
  readonly name: string;
  /** Puts `bh` on the home thread's pending list. */
  _enqueueLocal(bh: BottomHalf): void;
  /** Registers a BH whose flags moved to shared memory; returns its shared id. */
  _shareBh(bh: BottomHalf): { id: number; table: WakeTable; slot: number; generation: number };
  notify(): void;
  assertOpen(what: string): void;
}

/** The structured-cloneable form of a {@link BottomHalf}. */
export interface BottomHalfHandle {
  readonly kind: 'aio.BottomHalf';
  readonly name: string;
  readonly sab: SharedArrayBuffer;
  readonly id: number;
  readonly table: SharedArrayBuffer;
  readonly slot: number;
  readonly generation: number;
}

/**
 * A bottom half of one context, made with `ctx.bh(cb)`. Methods are for the home thread;
 * another thread schedules it through `BottomHalf.from(bh.handle).schedule()`.
 *
 * @example
 * ```ts
 * import { AioContext } from 'aio-node';
 *
 * const ctx = new AioContext();
 * const bh = ctx.bh(() => console.log('once per schedule'));
 * bh.schedule();
 * bh.schedule(); // already scheduled: it still runs once
 * ctx.poll(false);
 * // Another thread: BottomHalf.from(bh.handle).schedule()
 * bh.delete();
 * ctx.close();
 * ```
 */
export class BottomHalf {
  /** Name used in leak reports (from options.name, else the callback's name). */
  readonly name: string;
  /** @internal Called as a method: `this` is the BH. */
  readonly _cb: (this: BottomHalf) => void;
  /**
   * @internal What a oneshot made for a record from another thread runs (record-intake.ts,
   * whose one callback reads it through `this`, so a record costs no closure); undefined
   * for the others.
   */
  _record: unknown = undefined;
  /** @internal Local flag word, used until the BH is shared. */
  _flags: number;
  /** @internal Its shared block (BhWord) once a handle exists. */
  _shared: LoopAtomicsOps | null = null;
  /** @internal */
  _sharedId = 0;
  readonly #owner: BhOwner;
  #handle: BottomHalfHandle | null = null;

  /** @internal Use `ctx.bh()` or `ctx.scheduleOneshot()`. */
  constructor(owner: BhOwner, cb: (this: BottomHalf) => void, name: string, flags = 0) {
    this.#owner = owner;
    this._cb = cb;
    this.name = name;
    this._flags = flags;
  }

  /** Rebuilds a remote view of a bottom half from its handle, in any thread. */
  static from(handle: BottomHalfHandle): RemoteBottomHalf {
    return new RemoteBottomHalf(handle);
  }

  /** Current flags (BH_*). @internal */
  _loadFlags(): number {
    return this._shared ? this._shared.load(FLAGS) : this._flags;
  }

  /** fetch_or on the flags; returns the old value. @internal */
  _fetchOr(bits: number): number {
    if (this._shared) return this._shared.or(FLAGS, bits);
    const old = this._flags;
    this._flags = old | bits;
    return old;
  }

  /** fetch_and on the flags; returns the old value. @internal */
  _fetchAnd(bits: number): number {
    if (this._shared) return this._shared.and(FLAGS, bits);
    const old = this._flags;
    this._flags = old & bits;
    return old;
  }

  /** Takes the BH off its list for a run (bhDequeue); returns the flags it had. Home thread. @internal */
  _dequeue(): number {
    if (this._shared) return bhDequeue(this._shared, 0);
    const old = this._flags;
    this._flags = old & (BH_DELETED | BH_ONESHOT);
    return old;
  }

  #enqueue(bits: number, what: string): void {
    const old = this._loadFlags();
    if (old & BH_DELETED) throw new AioError('ERR_AIO_BH_DELETED', `${what}: bottom half '${this.name}' was deleted`);
    this.#owner.assertOpen(what);
    if (!(this._fetchOr(BH_PENDING | bits) & BH_PENDING)) this.#owner._enqueueLocal(this);
    else this.#owner.notify();
  }

  /** Runs the callback once in the context's next poll (qemu_bh_schedule). Home thread. */
  schedule(): void {
    this.#enqueue(BH_SCHEDULED, 'BottomHalf.schedule()');
  }

  /**
   * Like `schedule()`, but the run is not progress and a blocking poll waits up to 10 ms
   * for it (qemu_bh_schedule_idle). Home thread.
   */
  scheduleIdle(): void {
    this.#enqueue(BH_SCHEDULED | BH_IDLE, 'BottomHalf.scheduleIdle()');
  }

  /** Stops a scheduled run that has not started; it stays queued and is skipped (qemu_bh_cancel). Home thread. */
  cancel(): void {
    this._fetchAnd(~BH_SCHEDULED);
  }

  /**
   * Deletes the BH: it never runs again and is freed in the next poll (qemu_bh_delete).
   * Every BH must be deleted before its context is closed. Home thread.
   */
  delete(): void {
    this.#enqueue(BH_DELETED, 'BottomHalf.delete()');
  }

  /** True once `delete()` was called. Home thread. */
  get deleted(): boolean {
    return (this._loadFlags() & BH_DELETED) !== 0;
  }

  /** Structured-cloneable handle for `BottomHalf.from()` in another thread. Home thread. */
  get handle(): BottomHalfHandle {
    if (this.#handle) return this.#handle;
    if (this._loadFlags() & BH_DELETED) throw new AioError('ERR_AIO_BH_DELETED', `BottomHalf.handle: bottom half '${this.name}' was deleted`);
    const sab = allocShared(BLOCK_BYTES);
    const shared = new LoopAtomicsOps(new Int32Array(sab));
    shared.store(FLAGS, this._flags);
    this._shared = shared;
    const { id, table, slot, generation } = this.#owner._shareBh(this);
    this._sharedId = id;
    this.#handle = { kind: 'aio.BottomHalf', name: this.name, sab, id, table: table.sab, slot, generation };
    return this.#handle;
  }

  /** The id of the BH after this one on a remote list taken by the home thread (remoteBhNext). Home thread. @internal */
  _sharedNext(): number {
    return remoteBhNext(this._shared!, 0);
  }
}

/**
 * A bottom half seen from another thread: it can only be scheduled. Any thread.
 *
 * @example
 * ```ts
 * import { BottomHalf, type BottomHalfHandle } from 'aio-node';
 *
 * declare const handle: BottomHalfHandle; // bh.handle, received from its context's thread
 * BottomHalf.from(handle).schedule(); // runs in that context's next poll, in its thread
 * ```
 */
export class RemoteBottomHalf {
  readonly name: string;
  readonly #block: LoopAtomicsOps;
  /** The wake table's words, and the index of the remote list's head (Slot.RemoteBhHead) in them. */
  readonly #list: LoopAtomicsOps;
  readonly #head: number;
  readonly #id: number;
  readonly #table: WakeTable;
  readonly #slot: number;
  readonly #generation: number;

  constructor(handle: BottomHalfHandle) {
    checkOptions('handle', handle);
    const problem = RemoteBottomHalf.#problem(handle);
    if (problem !== null) throw badHandle('BottomHalf.from()', 'aio.BottomHalf', problem);
    // Error messages quote the name: one from another thread may be of any length.
    this.name = clip(handle.name);
    this.#block = new LoopAtomicsOps(new Int32Array(handle.sab));
    this.#id = handle.id;
    this.#table = adoptWakeTable(handle.table);
    this.#slot = handle.slot;
    this.#list = opsOf(this.#table);
    this.#head = this.#table.base(this.#slot) + Slot.RemoteBhHead;
    this.#generation = handle.generation;
  }

  static #problem(h: Partial<BottomHalfHandle>): string | null {
    if (h?.kind !== 'aio.BottomHalf') return `its kind is ${describeValue(h?.kind)}, not 'aio.BottomHalf'`;
    if (typeof h.name !== 'string') return `its "name" is ${describeValue(h.name)}, not a string`;
    if (!(h.sab instanceof SharedArrayBuffer) || h.sab.byteLength < BLOCK_BYTES) {
      return `its "sab" is ${describeValue(h.sab)}, not a SharedArrayBuffer of at least ${BLOCK_BYTES} bytes`;
    }
    // Ids are what the home thread looks BHs up by; whether this one is a BH of that
    // context only the home thread can tell, and it drops one that is not.
    if (typeof h.id !== 'number' || (h.id | 0) !== h.id || h.id <= 0) return `its "id" is ${describeValue(h.id)}, not a positive 32-bit integer`;
    return tableFieldsProblem(h, true);
  }

  /** Schedules the BH in its context (qemu_bh_schedule from another thread). Any thread. */
  schedule(): void {
    if (this.#table.generation(this.#slot) !== this.#generation) {
      throw new AioError('ERR_AIO_CLOSED', `BottomHalf.schedule(): the context of bottom half '${this.name}' is closed`);
    }
    const old = remoteBhSchedule(this.#block, 0, this.#list, this.#head, this.#id, BH_SCHEDULED);
    if (old & BH_DELETED) throw new AioError('ERR_AIO_BH_DELETED', `BottomHalf.schedule(): bottom half '${this.name}' was deleted`);
    notifySlot(this.#table, this.#slot);
  }
}
