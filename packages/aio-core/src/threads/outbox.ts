/**
 * Sending records to another context's inbox, with back-pressure. When the target's ring
 * is full, records wait in this thread's outbox for that target, in order, and are
 * retried whenever this thread polls any context or a host timer fires, so two threads
 * that flood each other never deadlock. Records JSON cannot carry go through the
 * target's fallback channel (an IOThread's port) if there is one.
 *
 * Per thread; any code in this thread may send.
 */
import { AioError } from '../base/errors.js';
import { Fifo } from '../base/fifo.js';
import { binarySize } from './binary-records.js';
import { MAX_RECORD_BYTES, askForRoom, canAppendJson, encodeRecord, inboxReadPosition, tryAppend, tryAppendBinary, tryAppendJson } from './inbox.js';
import { AioContext } from '../loop/context.js';
import { type CallRecord, type InboxRecord, type ResultRecord, recordJsonSafe } from './messages.js';
import { SLOTS, type WakeTable } from '../base/shared-memory.js';

/** Delivers a record by structured clone when shared memory cannot carry it. */
export type FallbackChannel = (record: InboxRecord) => void;

/**
 * Where a record goes: the context in `slot` of `table`, as of `generation` (records for
 * a context that closed meanwhile are dropped), and how to reach it when shared memory
 * cannot carry the record (absent or null: no other way).
 */
export interface RecordTarget {
  readonly table: WakeTable;
  readonly slot: number;
  readonly generation: number;
  readonly fallback?: FallbackChannel | null;
}

/**
 * The records waiting for room in one target's ring: JSON text (encoded straight into the
 * ring when room comes, where TextEncoder can write shared memory), encoded bytes, or a
 * CALL or RESULT record written in its binary form when room comes.
 */
interface Queue {
  table: WakeTable;
  slot: number;
  generation: number;
  records: Fifo<Queued>;
  /**
   * The ring's read position when an append last found no room (NaN: none failed). Only
   * the reader frees room, by moving that position: while it has not moved, another try
   * would fail too, and is skipped (a try takes the inbox lock).
   */
  readAtFailure: number;
  /** The readAtFailure at which this thread last asked the reader for a wake-up (askForRoom): once per position. */
  askedAt: number;
}

/** A record waiting in a queue, in the form it will be appended in. */
type Queued = string | Uint8Array | ResultRecord | CallRecord;

const queues = new Map<number, Queue>();
let retryTimer: ReturnType<typeof setTimeout> | undefined;

/** The queue key of `slot` of `table` (a number: the key is made on every record sent while any queue waits). */
function key(table: WakeTable, slot: number): number {
  return table.id * SLOTS + slot;
}

/** Appends a queued record; false when the ring has no room now. */
function appendQueued(q: Queue, record: Queued): boolean {
  if (typeof record === 'string') return tryAppendJson(q.table, q.slot, record);
  return Array.isArray(record) ? tryAppendBinary(q.table, q.slot, record, binarySize(record)) : tryAppend(q.table, q.slot, record);
}

/**
 * Appends what `q` holds, in order, while there is room. Returns true when it is empty.
 * When records are left, asks the reader to wake a context of this thread once it frees
 * room (every pass of any context here retries the outbox), then looks once more.
 */
function flushQueue(q: Queue): boolean {
  const records = q.records;
  for (;;) {
    const read = inboxReadPosition(q.table, q.slot);
    if (read !== q.readAtFailure) {
      while (records.length > 0 && appendQueued(q, records.peek()!)) records.shift();
      if (records.length === 0) {
        q.readAtFailure = Number.NaN;
        return true;
      }
      // The position loaded before the tries: if the reader moved since, the next look retries.
      q.readAtFailure = read;
    }
    if (q.askedAt === q.readAtFailure) return false;
    const writer = AioContext._polledHere();
    if (writer === null || writer._table !== q.table) return false;
    askForRoom(q.table, q.slot, writer._slotForOthers());
    q.askedAt = q.readAtFailure;
    // The reader may have freed room before it could see the request: look again.
    if (inboxReadPosition(q.table, q.slot) === q.readAtFailure) return false;
  }
}

/** True while some record waits for room. */
export function outboxPending(): boolean {
  return queues.size > 0;
}

/** Retries every waiting record; returns true when the outbox is empty. Any code in this thread. */
export function flushOutbox(): boolean {
  for (const [k, q] of queues) {
    if (q.table.generation(q.slot) !== q.generation) {
      queues.delete(k); // the target closed: its records have no reader any more
      continue;
    }
    if (flushQueue(q)) queues.delete(k);
  }
  if (queues.size > 0 && retryTimer === undefined) {
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      flushOutbox();
    }, 1);
  }
  return queues.size === 0;
}

/**
 * The error of an operation whose record cannot travel (`sendRecord` returned false);
 * `what` names the operation. Any thread.
 */
export function unsendable(what: string): AioError {
  return new AioError(
    'ERR_AIO_NOT_SERIALIZABLE',
    `${what}: the arguments or result cannot go through shared memory (JSON values up to ${MAX_RECORD_BYTES} bytes) and the target has no message channel`,
  );
}

/**
 * Sends `record` to the context `to` names: into its inbox ring, or this thread's outbox
 * while the ring is full, or by `to.fallback` when JSON cannot carry the record unchanged
 * (`recordJsonSafe`) or it is too large for a ring. Returns false, sending nothing, when
 * it can go none of these ways (the caller reports `unsendable`); records of numbers and
 * bounded strings always go. Throws what the fallback channel throws. Any thread.
 */
export function sendRecord(to: RecordTarget, record: InboxRecord): boolean {
  const { table, slot } = to;
  const q = queues.size === 0 ? undefined : queues.get(key(table, slot));
  // Most calls and replies: written in their binary form (binary-records.ts), no JSON.
  const size = binarySize(record);
  if (size > 0 && size <= MAX_RECORD_BYTES) {
    const binary = record as ResultRecord | CallRecord;
    if (!q && tryAppendBinary(table, slot, binary, size)) return true;
    enqueue(q, to, binary);
    return true;
  }
  // The common case: JSON that surely fits, nothing queued before it, room in the ring:
  // encoded straight into the target's inbox.
  const json = recordJsonSafe(record) ? JSON.stringify(record) : null;
  // JSON text whose largest UTF-8 form fits goes into the ring as text, now or later.
  const asText = json !== null && json.length * 3 <= MAX_RECORD_BYTES && canAppendJson(table);
  if (asText && !q && tryAppendJson(table, slot, json)) return true;
  let payload: string | Uint8Array | null = asText ? json : json === null ? null : encodeRecord(record, json);
  if (payload !== null && typeof payload !== 'string' && payload.length > MAX_RECORD_BYTES) payload = null;
  if (payload === null) {
    if (!to.fallback) return false;
    to.fallback(record);
    return true;
  }
  if (!q && !asText && tryAppend(table, slot, payload as Uint8Array)) return true;
  enqueue(q, to, payload);
  return true;
}

/**
 * Queues `record` behind what waits for the target of `to` (its queue `q`, if any), after
 * an append found no room or records wait already, and retries the queue.
 */
function enqueue(q: Queue | undefined, to: RecordTarget, record: Queued): void {
  if (q) {
    q.records.push(record);
    if (flushQueue(q)) queues.delete(key(to.table, to.slot));
    return;
  }
  const records = new Fifo<Queued>();
  records.push(record);
  queues.set(key(to.table, to.slot), { table: to.table, slot: to.slot, generation: to.generation, records, readAtFailure: Number.NaN, askedAt: Number.NaN });
  flushOutbox();
}
