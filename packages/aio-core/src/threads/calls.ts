/**
 * Cross-thread calls and oneshots (QEMU's aio_bh_schedule_oneshot across threads and
 * aio_wait_bh_oneshot): the sending side, the pending-call table, and running the ONESHOT
 * and CALL records a context receives (its intake dispatches them, record-intake.ts).
 *
 * A call's reply goes to the caller's current context, which must be polled for the reply
 * to land; the thread's main context is attached to the host loop for that automatically.
 * Call ids come from a counter in the shared wake table, so they are unique in the thread
 * group and a reply delivered by a fallback channel cannot settle the wrong call.
 */
import { AioContext } from '../loop/context.js';
import { AioError, checkString, clip } from '../base/errors.js';
import { lookupFunction } from './functions.js';
import { getHost } from '../base/host.js';
import { expectHostEvent } from '../base/host-yield.js';
import { threadId } from '../locks/thread-id.js';
import { CALL, FAULT, type CallRecord, type OneshotRecord, ONESHOT, RESULT, type ResultRecord, errorData, errorFrom } from './messages.js';
import { type FallbackChannel, type RecordTarget, sendRecord, unsendable } from './outbox.js';
import type { WakeTable } from '../base/shared-memory.js';
import { PendingCalls } from './pending-calls.js';

/** A context a call or oneshot goes to: where its records go, and its name for errors. */
export interface Target extends RecordTarget {
  readonly name: string;
  readonly fallback: FallbackChannel | null;
}

/** Told the outcome of a call, synchronously, in the reply context's poll; `runNs` is how long the function ran. */
export type CallCallback = (err: Error | null, value?: unknown, runNs?: number) => void;

interface PendingCall {
  readonly id: number;
  done: CallCallback;
  replyTo: AioContext;
  /** The context the call went to; null for replies awaited from a thread that is starting. */
  target: Target | null;
  /** The called function's name, or (target null) what the reply is for. */
  label: string;
}

/** What a pending call is, for error messages; built only when one is needed. */
function whatOf(call: PendingCall): string {
  return call.target ? callWhat(call.label, call.target) : call.label;
}

function callWhat(name: string, target: Target): string {
  return `call('${clip(name)}') on '${target.name}'`;
}

function oneshotWhat(name: string): string {
  return `scheduleOneshot('${clip(name)}')`;
}

const pending = new PendingCalls<PendingCall>();

/**
 * The error of `what` awaiting a record from another thread group in `ctx`, which only
 * its own group's threads can reach. Any thread. @internal
 */
export function foreignMemory(what: string, ctx: AioContext): AioError {
  return new AioError('ERR_AIO_FOREIGN_MEMORY', `${what}: the caller's context '${ctx.name}' is in another thread group's shared memory`);
}

/**
 * Why `target` can take no more records: ERR_AIO_THREAD_DIED with the cause its epitaph
 * records when its thread died, else ERR_AIO_CLOSED. Any thread.
 */
function endedError(target: Target, what: string): AioError {
  const cause = target.table.epitaph(target.slot, target.generation);
  return cause === null
    ? new AioError('ERR_AIO_CLOSED', `${what}: AioContext '${target.name}' is closed`)
    : new AioError('ERR_AIO_THREAD_DIED', `${what}: the thread of AioContext '${target.name}' died: ${cause}`);
}

function alive(target: Target): boolean {
  return target.table.generation(target.slot) === target.generation;
}

/** The table's count of ended contexts when this thread last looked for calls waiting on them. */
let endingsSeen = 0;

/**
 * Fails the calls this thread waits on whose target context ended (closed, or reclaimed
 * from a dead thread) without answering them, once the table says a context ended; cheap
 * otherwise. Called by every poll pass. This thread.
 */
export function failCallsToEnded(table: WakeTable): void {
  // Nothing waits: the next look covers every ending since the last.
  if (pending.size === 0) return;
  const count = table.endings();
  if (count === endingsSeen) return;
  endingsSeen = count;
  for (const call of pending.values()) {
    const t = call.target;
    if (!t || t.table.generation(t.slot) === t.generation) continue;
    failAfterRecords(call, () => endedError(t, whatOf(call)));
  }
}

/**
 * Fails a pending call in its reply context's next poll, after the records already in
 * that context's inbox: the target may have replied just before it ended.
 */
function failAfterRecords(call: PendingCall, err: () => Error): void {
  call.replyTo._afterBhPhase(() => {
    if (pending.get(call.id) !== call) return; // the reply was in the inbox
    pending.take(call.id);
    call.replyTo._expectReplies(-1);
    call.done(err());
  });
}

/** Runs registered function `name` in the target context, without a reply. Any thread. */
export function sendOneshot(target: Target, name: string, args: unknown[]): void {
  checkString('name', name);
  if (!alive(target)) throw endedError(target, oneshotWhat(name));
  const sender = AioContext.current();
  const from = sender._table.id === target.table.id ? sender._slotForOthers() : -1;
  const record: OneshotRecord = [ONESHOT, name, args, from, from < 0 ? 0 : target.table.generation(from)];
  if (!sendRecord(target, record)) throw unsendable(oneshotWhat(name));
}

/**
 * Registers a reply the current context will receive as a RESULT record with the returned
 * id, and calls `done` when it arrives, inside that context's poll. `label`: the called
 * function's name when `target` is given, else what the reply is for. Any thread.
 * @internal
 */
export function expectReply(table: WakeTable, target: Target | null, label: string, done: CallCallback): Readonly<PendingCall> {
  const replyTo = AioContext.current();
  if (replyTo._table.id !== table.id) throw foreignMemory(target ? callWhat(label, target) : label, replyTo);
  const call: PendingCall = { id: table.nextRecordId(), done, replyTo, target, label };
  pending.add(call);
  replyTo._expectReplies(1);
  return call;
}

/** Forgets an expected reply that will never come (its request was withdrawn or not sent). This thread. */
function forgetReply(id: number): void {
  const call = pending.take(id);
  if (!call) return;
  call.replyTo._expectReplies(-1);
}

/**
 * Calls registered function `name` in the target context; `done` runs in the caller's
 * current context's poll with the outcome, even while that poll blocks. Any thread.
 */
export function sendCallWith(target: Target, name: string, args: unknown[], done: CallCallback): void {
  checkString('name', name);
  // Messages are built only for errors: a call is hot.
  if (!alive(target)) throw endedError(target, callWhat(name, target));
  const { id, replyTo } = expectReply(target.table, target, name, done);
  const record: CallRecord = [CALL, id, name, args, replyTo._slot, threadId()];
  let sent = false;
  try {
    sent = sendRecord(target, record);
  } finally {
    if (!sent) forgetReply(id);
  }
  if (!sent) throw unsendable(callWhat(name, target));
  // Pairs with the store in beginRelease(): a context that closed meanwhile either drains
  // this record (and refuses it) or is seen here, and the call fails after any reply.
  if (!alive(target)) {
    const call = pending.get(id);
    if (call) failAfterRecords(call, () => endedError(target, callWhat(name, target)));
  }
}

/** Calls registered function `name` in the target context; resolves with its result. Any thread. */
export function sendCall(target: Target, name: string, args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => sendCallWith(target, name, args, (err, value) => (err ? reject(err) : resolve(value))));
}

/**
 * Rejects every pending call to the context in `slot` (its thread died or stopped) whose
 * reply did not come: in the caller's next poll, after the records already in its inbox
 * have run, since the thread may have replied just before it ended. This thread.
 */
export function failCallsTo(table: WakeTable, slot: number, err: () => Error): void {
  for (const call of pending.values()) {
    if (call.target && call.target.table.id === table.id && call.target.slot === slot) failAfterRecords(call, err);
  }
}

/** Fails one expected reply now (its sender died). This thread. */
export function failReply(id: number, err: Error): void {
  const call = pending.take(id);
  if (!call) return;
  call.replyTo._expectReplies(-1);
  call.done(err);
}

/** Rejects every pending call whose reply would land in `ctx` (it is closing). This thread. */
export function failCallsReplyingTo(ctx: AioContext): void {
  for (const call of pending.values()) {
    if (call.replyTo === ctx) {
      pending.take(call.id);
      call.done(new AioError('ERR_AIO_CLOSED', `${whatOf(call)}: the caller's context '${ctx.name}' was closed before the reply`));
    }
  }
}

/**
 * Answers a oneshot its context will never run because it is closing: its sender is told,
 * as of any failed oneshot. Home thread of `ctx`.
 */
export function refuseOneshot(ctx: AioContext, record: OneshotRecord): void {
  const [, name, , senderSlot, senderGen] = record;
  oneshotFailed(ctx, name, senderSlot, senderGen, new AioError('ERR_AIO_CLOSED', `AioContext '${ctx.name}' was closed before running it`));
}

/**
 * Answers a call its context will never run because it is closing: it fails with
 * ERR_AIO_CLOSED, without having run. Home thread of `ctx`.
 */
export function refuseCall(ctx: AioContext, record: CallRecord): void {
  const [, id, name, , replySlot] = record;
  const table = ctx._table;
  const generation = table.generation(replySlot);
  if (generation === 0) return; // the caller's context is gone too
  const error = errorData(new AioError('ERR_AIO_CLOSED', `call('${clip(name)}'): AioContext '${ctx.name}' was closed before running it`));
  // If even this cannot go (a context name too long for an inbox), the caller's poll still
  // fails the call once it sees this context ended (failCallsToEnded).
  sendRecord({ table, slot: replySlot, generation }, [RESULT, id, 0, error]);
}

/**
 * Settles the pending call (or thread start) of this thread that a RESULT record answers;
 * one nobody waits for any more is ignored. This thread, in the reply context's poll.
 */
export function settleCall(record: ResultRecord): void {
  const call = pending.take(record[1]);
  if (!call) return;
  call.replyTo._expectReplies(-1);
  if (record[2] === 0) call.done(errorFrom(record[3] as never, whatOf(call)), undefined, record[4]);
  else call.done(null, record[2] === 1 ? record[3] : undefined, record[4]);
}

/**
 * Runs a oneshot in `ctx` (from its BH phase). Its failure (no such function, or it threw)
 * is the request's, not the thread's: it goes back to the sending context as a FAULT
 * record, or is reported here when the sender cannot be reached. Home thread of `ctx`.
 */
export function runOneshot(ctx: AioContext, record: OneshotRecord): void {
  const [, name, args, senderSlot, senderGen] = record;
  let result: unknown;
  try {
    result = lookupFunction(name, `the thread of '${ctx.name}'`)(...args);
  } catch (err) {
    return oneshotFailed(ctx, name, senderSlot, senderGen, err);
  }
  whenSettled(
    result,
    () => {},
    (err) => oneshotFailed(ctx, name, senderSlot, senderGen, err),
  );
}

function oneshotFailed(ctx: AioContext, name: string, senderSlot: number, senderGen: number, err: unknown): void {
  const data = errorData(err);
  const what = `scheduleOneshot('${clip(name)}') on '${ctx.name}' failed: ${data.message}`;
  const table = ctx._table;
  // A report too large for an inbox is made here instead.
  if (senderSlot >= 0 && table.generation(senderSlot) === senderGen && senderGen !== 0) {
    if (sendRecord({ table, slot: senderSlot, generation: senderGen }, [FAULT, { ...data, message: what }])) return;
  }
  ctx._report(new AioError('ERR_AIO_REQUEST_FAILED', what));
}

/**
 * Runs a call in `ctx` (from its BH phase) and replies with its outcome, through
 * `channel` when shared memory cannot carry the reply (null: no other way, and the
 * caller gets ERR_AIO_NOT_SERIALIZABLE). Home thread of `ctx`.
 */
export function runCall(ctx: AioContext, record: CallRecord, channel: FallbackChannel | null): void {
  const [, , name, args] = record;
  const started = getHost().nowNs();
  let value: unknown;
  try {
    value = lookupFunction(name, `the thread of '${ctx.name}'`)(...args);
  } catch (err) {
    sendReply(ctx, record, channel, started, 0, errorData(err));
    return;
  }
  // Most results are not objects: they reply at once, with no callback made for them.
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
    sendReply(ctx, record, channel, started, 1, value);
    return;
  }
  // A reply is owed until the promise settles: the loop gives the host turns meanwhile.
  const settled = expectHostEvent();
  const thenable = whenSettled(
    value,
    (v) => {
      settled();
      sendReply(ctx, record, channel, started, 1, v);
    },
    (err) => {
      settled();
      sendReply(ctx, record, channel, started, 0, errorData(err));
    },
  );
  if (!thenable) {
    settled();
    sendReply(ctx, record, channel, started, 1, value);
  }
}

/**
 * Sends the outcome of the call `record` that ran in `ctx` since `started` (ns) to its
 * caller's context, unless that context is gone. A value the inbox and `channel` cannot
 * carry is replaced by the error saying so. Home thread of `ctx`.
 */
function sendReply(ctx: AioContext, record: CallRecord, channel: FallbackChannel | null, started: number, ok: 0 | 1, value: unknown): void {
  const [, id, name, , replySlot] = record;
  const table = ctx._table;
  const generation = table.generation(replySlot);
  if (generation === 0) return; // the caller's context is gone
  const runNs = Math.round(getHost().nowNs() - started);
  const result: ResultRecord = value === undefined && ok === 1 ? [RESULT, id, 2, 0, runNs] : [RESULT, id, ok, value, runNs];
  const to = { table, slot: replySlot, generation, fallback: channel };
  let failure: unknown = null;
  try {
    if (!sendRecord(to, result)) failure = unsendable(`reply to call('${clip(name)}')`);
  } catch (err) {
    failure = err; // the channel could not carry it either
  }
  // The error of a failed send is small enough for any inbox.
  if (failure !== null) sendRecord({ table, slot: replySlot, generation }, [RESULT, id, 0, errorData(failure), runNs]);
}

/**
 * If `value` is a thenable, subscribes `ok` and `fail` (at most one of them runs, once)
 * and returns true; a `then` getter or call that throws counts as a rejection. Returns
 * false for anything else. Never throws.
 */
function whenSettled(value: unknown, ok: (v: unknown) => void, fail: (err: unknown) => void): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  let then: unknown;
  let done = false;
  const once =
    <T>(f: (x: T) => void) =>
    (x: T) => {
      if (done) return;
      done = true;
      f(x);
    };
  try {
    then = (value as { then?: unknown }).then;
  } catch (err) {
    once(fail)(err);
    return true;
  }
  if (typeof then !== 'function') return false;
  try {
    then.call(value, once(ok), once(fail));
  } catch (err) {
    once(fail)(err);
  }
  return true;
}
