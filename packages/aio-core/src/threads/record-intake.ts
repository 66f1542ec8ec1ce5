/**
 * A context's intake of records from other threads: the records in its inbox ring and
 * those that came by message (through an IOThread's port), each checked (a malformed one
 * is dropped and reported as ERR_AIO_BAD_RECORD) and run by its kind (`runRecord`, the one
 * dispatcher) as a oneshot bottom half in the context's BH phase, in arrival order; the
 * hooks an IOThread's runner adds (CONTROL records, replies to its parent); and, when the
 * context closes, an answer for every record it will never run (`refuseRecord`). Each
 * poll also retries this thread's records waiting for room in other inboxes, and fails
 * the calls this thread waits on whose target ended.
 *
 * The loop knows none of this: it asks every context's intake through the small
 * `ContextIntake` interface, installed as a context extension (index.ts).
 *
 * Home thread of the context.
 */
import { BH_ONESHOT, BH_PENDING, BH_SCHEDULED, BottomHalf } from '../loop/bh.js';
import { failCallsReplyingTo, failCallsToEnded, refuseCall, refuseOneshot, runCall, runOneshot, settleCall } from './calls.js';
import type { AioContext } from '../loop/context.js';
import type { ContextIntake } from '../loop/poll.js';
import { AioError } from '../base/errors.js';
import { failHandOffsTo, receiveHandOff } from './hand-off.js';
import { drain } from './inbox.js';
import { CALL, CONTROL, type ControlRecord, FAULT, HANDOFF, type InboxRecord, ONESHOT, RESULT, recordProblem } from './messages.js';
import { type FallbackChannel, flushOutbox, outboxPending } from './outbox.js';
import { Slot, type WakeTable } from '../base/shared-memory.js';
import { getHost } from '../base/host.js';

/** How soon a blocking poll retries records waiting for room in a full inbox. */
const OUTBOX_RETRY_NS = 1_000_000;

const intakes = new WeakMap<AioContext, RecordIntake>();

/** What an IOThread's runner adds to the records its context runs. @internal */
interface RecordHooks {
  /** Runs a CONTROL record (the loop's stop, port messages announced). */
  control?(record: ControlRecord): void;
  /** Thread id of the parent thread, reachable through `parentChannel`. */
  parentThread?: number;
  /** Carries replies to the parent that shared memory cannot. */
  parentChannel?: FallbackChannel;
}

/**
 * Runs one record in `ctx`, by its kind (from ctx's BH phase, so AioContext.current() is
 * ctx). Home thread of ctx.
 */
function runRecord(ctx: AioContext, record: InboxRecord, hooks: RecordHooks): void {
  switch (record[0]) {
    case ONESHOT:
      return runOneshot(ctx, record);
    case CALL:
      return runCall(ctx, record, record[5] === hooks.parentThread ? (hooks.parentChannel ?? null) : null);
    case RESULT:
      return settleCall(record);
    case HANDOFF:
      return receiveHandOff(record);
    case CONTROL:
      return hooks.control?.(record);
    case FAULT: {
      const error = new AioError('ERR_AIO_REQUEST_FAILED', record[1].message);
      if (record[1].stack) (error as { remoteStack?: string }).remoteStack = record[1].stack;
      return ctx._report(error);
    }
  }
}

/**
 * Answers a record `ctx` will never run because it is closing. A call fails without
 * having run and a oneshot's sender is told; a RESULT or HANDOFF has its waiter in this
 * thread, failed with the context (`close`); a CONTROL record was for a loop that ends
 * anyway, and a FAULT has nobody left to tell. Home thread of ctx.
 */
function refuseRecord(ctx: AioContext, record: InboxRecord): void {
  if (record[0] === ONESHOT) refuseOneshot(ctx, record);
  else if (record[0] === CALL) refuseCall(ctx, record);
}

/** When this thread last took records from an inbox, in ns; 0 until read after the take. */
let takenNs = 0;

/**
 * A time at or after the take of the records this thread runs now, and at or before now,
 * read from the clock once per take whoever asks: the wait time of a reply (IOThread
 * stats) ends when its record was taken, and with thousands of replies a pass the clock
 * read per reply was a tenth of the caller's time on Bun (performance.now(): 31 ns on
 * Bun, 34 on Node, 71 on Deno). This thread.
 */
export function recordsTakenNs(): number {
  if (takenNs === 0) takenNs = getHost().nowNs();
  return takenNs;
}

/** The record intake of one context. */
class RecordIntake implements ContextIntake {
  readonly #ctx: AioContext;
  readonly #table: WakeTable;
  /** The context's inbox flag (Slot.InboxPending): set by a producer after it appends. */
  readonly #flag: number;
  /** Records that arrived through a fallback channel instead of the inbox ring. */
  #delivered: InboxRecord[] = [];
  /** What the thread runner adds to record handling (CONTROL records, replies to its parent). */
  #hooks: RecordHooks = {};
  /** The callback of every record's oneshot: runs the record the BH carries (`this`). Made once. */
  readonly #runRecord: (this: BottomHalf) => void;

  constructor(ctx: AioContext) {
    this.#ctx = ctx;
    this.#table = ctx._table;
    this.#flag = this.#table.base(ctx._slot) + Slot.InboxPending;
    const intake = this;
    this.#runRecord = function (this: BottomHalf): void {
      runRecord(ctx, this._record as InboxRecord, intake.#hooks);
    };
  }

  /** Reports a record drain() dropped (made once: take() runs on every poll that has records). */
  readonly #badRecord = (problem: string): void => this.#ctx._badRecord(problem);

  /** Whether the inbox ring has records: the load pairs with the producer's store of the flag (inbox.ts). */
  #ringPending(): boolean {
    return Atomics.load(this.#table.words, this.#flag) !== 0;
  }

  setHooks(hooks: RecordHooks): void {
    this.#hooks = hooks;
  }

  hasDelivered(): boolean {
    return this.#delivered.length > 0;
  }

  deliver(record: unknown): boolean {
    const problem = recordProblem(record);
    if (problem !== null) {
      this.#ctx._badRecord(`dropped a record that came by message: ${problem}`);
      return false;
    }
    if (this.#ctx.closed) return true;
    this.#delivered.push(record as InboxRecord);
    // Work from another thread: passes that will not sleep must accept the notify and take
    // it (ContextBase._exposure), or pending() keeps every pass from sleeping while none
    // takes the record.
    this.#ctx._slotForOthers();
    this.#ctx.notify();
    return true;
  }

  pending(): boolean {
    return this.#delivered.length > 0 || this.#ringPending();
  }

  maxSleepNs(): number {
    return outboxPending() ? OUTBOX_RETRY_NS : -1;
  }

  beginDispatch(notified: boolean): void {
    // Records waiting for room are retried on every pass: a reader frees room without
    // notifying anyone.
    if (outboxPending()) flushOutbox();
    // Whoever ends contexts notifies every context after (notifyAll).
    if (notified) failCallsToEnded(this.#table);
  }

  take(into: BottomHalf[]): void {
    const pending = this.#ringPending();
    if (this.#delivered.length === 0 && !pending) return;
    takenNs = 0;
    const ctx = this.#ctx;
    const records: unknown[] = this.#delivered;
    const checkFrom = records.length; // delivered records were checked by deliver()
    this.#delivered = [];
    if (pending) drain(ctx._table, ctx._slot, records, this.#badRecord);
    // The slice is popped from its end: push in reverse so records run in arrival order.
    for (let i = records.length - 1; i >= 0; i--) {
      const record = records[i];
      if (i >= checkFrom) {
        const problem = recordProblem(record);
        if (problem !== null) {
          ctx._badRecord(`dropped an inbox record: ${problem}`);
          continue;
        }
      }
      const bh = new BottomHalf(ctx, this.#runRecord, 'inbox', BH_PENDING | BH_SCHEDULED | BH_ONESHOT);
      bh._record = record;
      into.push(bh);
    }
  }

  close(): void {
    const ctx = this.#ctx;
    // Senders see the context gone already; calls that reached it but will never run fail
    // now, rather than never. What is malformed is only dropped: nobody can be answered.
    const unrun: unknown[] = this.#delivered;
    this.#delivered = [];
    drain(ctx._table, ctx._slot, unrun, () => {});
    for (const record of unrun) if (recordProblem(record) === null) refuseRecord(ctx, record as InboxRecord);
    failCallsReplyingTo(ctx);
    failHandOffsTo(ctx);
  }
}

/** The record intake of `ctx`, created with it. Home thread of `ctx`. @internal */
export function intakeOf(ctx: AioContext): RecordIntake {
  const intake = intakes.get(ctx);
  if (!intake) throw new Error(`AioContext '${ctx.name}' has no record intake`);
  return intake;
}

/** Creates the record intake of a new context (its ContextExtensions.intake). This thread. @internal */
export function createIntake(ctx: AioContext): ContextIntake {
  const intake = new RecordIntake(ctx);
  intakes.set(ctx, intake);
  return intake;
}
