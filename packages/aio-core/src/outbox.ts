/**
 * Sending records to another context's inbox, with back-pressure. When the target's ring
 * is full, records wait in this thread's outbox for that target, in order, and are
 * retried whenever this thread polls any context or a host timer fires, so two threads
 * that flood each other never deadlock. Records JSON cannot carry go through the
 * target's fallback channel (an IOThread's port) if there is one.
 *
 * Per thread; any code in this thread may send.
 */
import { AioError } from './errors.js';
import { Fifo } from './fifo.js';
import { MAX_RECORD_BYTES, encodeRecord, tryAppend, tryAppendJson } from './inbox.js';
import type { InboxRecord } from './messages.js';
import type { WakeTable } from './shared-memory.js';

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

interface Queue {
  table: WakeTable;
  slot: number;
  generation: number;
  records: Fifo<Uint8Array>;
}

const queues = new Map<string, Queue>();
let retryTimer: ReturnType<typeof setTimeout> | undefined;

function key(table: WakeTable, slot: number): string {
  return `${table.id}:${slot}`;
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
    while (q.records.length > 0 && tryAppend(q.table, q.slot, q.records.peek()!)) q.records.shift();
    if (q.records.length === 0) queues.delete(k);
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
 * Sends `record` to the context `to` names; `safe`: JSON carries it unchanged. `what`
 * names the operation for errors (a function: built only when one is thrown).
 * Throws ERR_AIO_NOT_SERIALIZABLE when JSON cannot carry the record and there is no
 * fallback channel.
 */
export function sendRecord(to: RecordTarget, record: InboxRecord, safe: boolean, what: string | (() => string)): void {
  const { table, slot, generation } = to;
  const k = key(table, slot);
  const q = queues.get(k);
  // The common case: JSON that surely fits, nothing queued before it, room in the ring:
  // encoded straight into the target's inbox.
  const json = safe ? JSON.stringify(record) : null;
  if (json !== null && !q && json.length * 3 <= MAX_RECORD_BYTES && tryAppendJson(table, slot, json)) return;
  let payload: Uint8Array | null = json === null ? null : encodeRecord(record, json);
  if (payload && payload.length > MAX_RECORD_BYTES) payload = null;
  if (!payload) {
    if (to.fallback) return to.fallback(record);
    throw new AioError(
      'ERR_AIO_NOT_SERIALIZABLE',
      `${typeof what === 'function' ? what() : what}: the arguments or result cannot go through shared memory (JSON values up to ${MAX_RECORD_BYTES} bytes) and the target has no message channel`,
    );
  }
  if (q) {
    q.records.push(payload);
    flushOutbox();
    return;
  }
  if (tryAppend(table, slot, payload)) return;
  const records = new Fifo<Uint8Array>();
  records.push(payload);
  queues.set(k, { table, slot, generation, records });
  flushOutbox();
}
