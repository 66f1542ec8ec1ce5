/**
 * Context inboxes: how work crosses threads without postMessage. Each context's slot in
 * the wake table has a byte ring. Any thread appends a record (a length word, then UTF-8
 * JSON, or a binary form, binary-records.ts); only the home thread reads. Producers serialise on a short lock in the slot
 * (locks/short-lock.ts); the home thread reads without it, because it is the only reader
 * and it publishes its read position with a store the producers load.
 *
 * The position protocol is written once against `FutexOps` (inboxReserve, inboxPublish,
 * inboxMarkPending, inboxDrain) and model-checked
 * (test/conformance/locks/model-inbox.test.ts); copying the bytes in and out stays
 * outside it. Ordering: a producer writes the record bytes and its length word, then
 * stores the write position; the reader loads the write position before it reads the
 * length words and bytes, so it never sees a position ahead of its bytes. The reader
 * stores its read position only after it copied out every record before it, so producers
 * never overwrite an unread record. Then the producer sets InboxPending and notifies the
 * context (aio_notify); the reader clears InboxPending before it loads the write
 * position, so a record is either seen by that drain or flags the inbox again.
 *
 * Records that do not fit (a ring of INBOX_BYTES, a record at most half of it) are the
 * caller's problem: `tryAppend` returns false and the caller retries later or uses
 * another channel.
 *
 * The ring is shared memory any thread of the group can write, so the reader trusts
 * nothing in it. A record whose bytes are not JSON is skipped (its length word still says
 * where the next one starts). A length word or position no producer writes (negative,
 * beyond the largest record, past the write position, a record crossing the end of the
 * ring, positions more than a ring apart or not multiples of 4) leaves no way to find the
 * next record: the reader then drops everything written so far (read position := write
 * position), which also lets producers append again, and reports it. Either way the read
 * position moves on, so a bad record is never read twice.
 */
import type { FutexOps } from '../locks/futex.js';
import { shortLock, shortUnlock } from '../locks/short-lock.js';
import { notifySlot, opsOf } from '../loop/notify.js';
import { INBOX_BYTES, SLOTS, Slot, type WakeTable } from '../base/shared-memory.js';
import { isBinaryRecord, readBinary, writeBinary } from './binary-records.js';
import type { CallRecord, ResultRecord } from './messages.js';

/** Length word that means "skip to the start of the ring". */
export const WRAP = -1;
/** What inboxReserve() returns when the ring has no room: no position is odd. */
export const NO_ROOM = -1;
/** Largest payload accepted, so one record never needs most of the ring. */
export const MAX_RECORD_BYTES = INBOX_BYTES / 2 - 8;

/** Bytes a record of `length` payload bytes takes in a ring: its length word, then the payload padded to words. */
export function recordSize(length: number): number {
  return 4 + ((length + 3) & ~3);
}

// ---------------------------------------------------------------------------------------
// The position protocol (deterministic, see locks/futex.ts). `f` is over the wake table's
// words, `b` the slot's first word, `ring` the word index of its ring of `bytes` bytes (a
// power of two), positions are in bytes.

/**
 * Finds room for a record of `need` bytes (recordSize()), writing a WRAP word where it
 * does not fit before the end of the ring; returns the position the record starts at, or
 * NO_ROOM. A producer holding the inbox lock.
 */
export function inboxReserve(f: FutexOps, b: number, ring: number, bytes: number, need: number): number {
  // Only lock holders store the write position: this load is exact. Positions are
  // multiples of 4; one that is not (forged memory) is rounded up, and the reader then
  // finds the positions corrupt and starts again from the write position.
  const pos = ((f.load(b + Slot.InboxWrite) + 3) & ~3) >>> 0;
  // Pairs with the reader's store of its position in inboxDrain(): the room below it was
  // read out already.
  const read = f.load(b + Slot.InboxRead) >>> 0;
  const at = pos & (bytes - 1);
  const tail = bytes - at;
  const wraps = tail < need;
  if (((pos - read) >>> 0) + need + (wraps ? tail : 0) > bytes) return NO_ROOM;
  if (!wraps) return pos | 0;
  // Past the write position: the reader sees it only with the record after it.
  f.write(ring + (at >> 2), WRAP);
  return (pos + tail) | 0;
}

/**
 * Publishes the record of `length` bytes at `pos` (from inboxReserve(); its bytes are
 * copied in already, after the length word). A producer holding the inbox lock.
 */
export function inboxPublish(f: FutexOps, b: number, ring: number, bytes: number, pos: number, length: number): void {
  f.write(ring + ((pos & (bytes - 1)) >> 2), length);
  // Publishes the WRAP word, the length word and the bytes; pairs with the load of the
  // write position in inboxDrain().
  f.store(b + Slot.InboxWrite, (pos + recordSize(length)) | 0);
}

/**
 * Flags the inbox after a publish, before the context is notified. Pairs with the store
 * of 0 in inboxDrain(). A producer, after it released the inbox lock.
 */
export function inboxMarkPending(f: FutexOps, b: number): void {
  f.store(b + Slot.InboxPending, 1);
}

/**
 * Reads every record published so far: `visit(at, length)` copies out the record whose
 * length word is at byte `at` of the ring; then the read position moves past them. `bad`
 * is told of a corrupt ring (whose unread bytes are then dropped). Home thread only.
 */
export function inboxDrain(
  f: FutexOps,
  b: number,
  ring: number,
  bytes: number,
  visit: (at: number, length: number) => void,
  bad: (problem: string) => void,
): void {
  // Clear first: a record published after this is either seen below or flags the inbox
  // again. Pairs with the store in inboxMarkPending().
  f.store(b + Slot.InboxPending, 0);
  const mask = bytes - 1;
  const maxRecord = bytes / 2 - 8;
  // Only this thread stores the read position.
  let read = f.load(b + Slot.InboxRead) >>> 0;
  // Pairs with the store of the write position in inboxPublish().
  const write = f.load(b + Slot.InboxWrite) >>> 0;
  let corrupt: string | null = null;
  if (((write - read) >>> 0) > bytes || ((write | read) & 3) !== 0) {
    corrupt = `its write position (${write}) and read position (${read}) are not those of a ring of ${bytes} bytes`;
  }
  while (corrupt === null && read !== write) {
    const at = read & mask;
    const unread = (write - read) >>> 0;
    const length = f.read(ring + (at >> 2));
    if (length === WRAP && at !== 0 && bytes - at <= unread) {
      read = (read + (bytes - at)) >>> 0;
      continue;
    }
    const size = recordSize(length);
    if (length < 0 || length > maxRecord || size > unread || at + size > bytes) {
      corrupt = `a record at offset ${at} has the length word ${length}`;
      break;
    }
    visit(at, length);
    read = (read + size) >>> 0;
  }
  if (corrupt !== null) {
    bad(`its inbox ring is corrupt (${corrupt}): dropped the ${(write - read) >>> 0} unread bytes written before this poll`);
    read = write;
  }
  // After every record before it was copied out: pairs with the load in inboxReserve().
  f.store(b + Slot.InboxRead, read | 0);
}

// ---------------------------------------------------------------------------------------
// Records in real memory

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a message for an inbox (`json`: its JSON text, when already made). Any thread. */
export function encodeRecord(message: unknown, json: string = JSON.stringify(message)): Uint8Array {
  return encoder.encode(json);
}

/**
 * Appends an encoded record to `slot`'s inbox and wakes its context. Returns false when
 * the ring has no room now. Any thread.
 */
export function tryAppend(table: WakeTable, slot: number, payload: Uint8Array): boolean {
  return append(table, slot, payload.length, payload);
}

/** Whether TextEncoder may write into shared memory here (WebIDL [AllowShared]; checked once). */
let encodeIntoShared: boolean | undefined;

/**
 * Whether records can be appended as JSON text (`tryAppendJson`): TextEncoder can write
 * into the shared memory of `table`. Any thread.
 */
export function canAppendJson(table: WakeTable): boolean {
  if (encodeIntoShared === undefined) {
    try {
      encoder.encodeInto('', table.bytes.subarray(0, 0));
      encodeIntoShared = true;
    } catch {
      encodeIntoShared = false;
    }
  }
  return encodeIntoShared;
}

/**
 * Appends the record whose JSON text is `json`, encoding it straight into the ring (no
 * intermediate bytes), and wakes the context. Returns false when the ring has no room
 * for the text's largest UTF-8 form now; only where `canAppendJson`. Any thread.
 */
export function tryAppendJson(table: WakeTable, slot: number, json: string): boolean {
  // Three bytes per UTF-16 unit is the most UTF-8 can take (a surrogate pair: 4 for 2).
  return append(table, slot, json.length * 3, json);
}

/**
 * Appends the binary form of a CALL or RESULT record, `size` bytes (binary-records.ts
 * `binarySize`), and wakes the context. Returns false when the ring has no room now. Any
 * thread.
 */
export function tryAppendBinary(table: WakeTable, slot: number, record: ResultRecord | CallRecord, size: number): boolean {
  return append(table, slot, size, record);
}

/**
 * The read position of `slot`'s ring: it moves only when the reader frees room. Pairs
 * with the reader's store in inboxDrain(). Any thread.
 */
export function inboxReadPosition(table: WakeTable, slot: number): number {
  return Atomics.load(table.words, table.base(slot) + Slot.InboxRead);
}

/**
 * Reserves room for a record of at most `maxLength` bytes, copies or encodes `record`
 * into it, and publishes it. (No callback: this runs once per record sent.)
 */
function append(table: WakeTable, slot: number, maxLength: number, record: Uint8Array | string | ResultRecord | CallRecord): boolean {
  const f = opsOf(table);
  const b = table.base(slot);
  const base = table.inboxOffset(slot);
  const ring = base >> 2;
  // A producer that ended holding the lock left its record past the published write
  // position, where no reader looks: taking the lock over needs no repair.
  shortLock(f, b + Slot.InboxLock, b + Slot.InboxLockOwner, table);
  try {
    const pos = inboxReserve(f, b, ring, INBOX_BYTES, recordSize(maxLength));
    if (pos === NO_ROOM) return false;
    const at = base + (pos & (INBOX_BYTES - 1)) + 4;
    let length: number;
    if (typeof record === 'string') {
      length = writeAscii(table.bytes, at, record);
      if (length < 0) length = encoder.encodeInto(record, table.bytes.subarray(at, at + maxLength)).written;
    } else if (Array.isArray(record)) {
      length = writeBinary(table.view, table.bytes, at, record);
    } else {
      table.bytes.set(record, at);
      length = record.length;
    }
    inboxPublish(f, b, ring, INBOX_BYTES, pos, length);
  } finally {
    shortUnlock(f, b + Slot.InboxLock, b + Slot.InboxLockOwner);
  }
  inboxMarkPending(f, b);
  notifySlot(table, slot);
  return true;
}

/**
 * Writes `text` at `at` as UTF-8 if it is all ASCII (one byte per unit, as most records
 * are: numbers, names, ASCII strings), allocating nothing; returns its length, or -1 at
 * the first unit that is not ASCII (the caller then encodes it with TextEncoder). Any
 * thread.
 */
function writeAscii(bytes: Uint8Array, at: number, text: string): number {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return -1;
    bytes[at + i] = c;
  }
  return n;
}

/**
 * Takes every record written so far, parsed, in order (their shape is not checked here).
 * `bad` is told of each record skipped and of a reset of a corrupt ring. Home thread only.
 */
export function drain(table: WakeTable, slot: number, into: unknown[], bad: (problem: string) => void): void {
  const base = table.inboxOffset(slot);
  const visit = (at: number, length: number): void => {
    const start = base + at + 4;
    if (length > 0 && isBinaryRecord(table.bytes[start]!)) {
      const record = readBinary(table.view, table.bytes, start, length);
      if (typeof record === 'string') bad(`dropped an inbox record: ${record}`);
      else into.push(record);
      return;
    }
    try {
      // slice() copies out of shared memory: TextDecoder refuses shared views.
      into.push(JSON.parse(decoder.decode(table.bytes.slice(start, start + length))));
    } catch {
      bad(`dropped an inbox record of ${length} bytes that is not JSON`);
    }
  };
  const f = opsOf(table);
  const b = table.base(slot);
  inboxDrain(f, b, base >> 2, INBOX_BYTES, visit, bad);
  const writer = inboxTakeWaitingWriter(f, b);
  if (writer === -1) return;
  // Any thread of the group can write the word: a slot no writer has is dropped, not woken
  // (a wake writes to the slot's words, which would be another context's ring or nothing).
  if (writer >= 0 && writer < SLOTS) notifySlot(table, writer);
  else bad(`dropped a request for room naming slot ${writer}, which is not a slot of the table`);
}

/**
 * The request for room, writer's side: asks the reader of the inbox whose slot starts at
 * `b` to wake the context in slot `writerSlot` after its next drain, which frees room. A
 * writer whose records wait in its outbox calls this, then looks at the read position
 * once more before it sleeps. Its store and the reader's store of the read position are
 * both sequentially consistent, so of the two later loads (the writer's of the position,
 * the reader's of this word in inboxTakeWaitingWriter) at least one sees the other's
 * store: the writer finds room, or the reader wakes it. A writer that asks while another
 * one's request is pending replaces it; the one replaced still retries on its own (every
 * pass of its thread, and a host timer, see outbox.ts), only later. Model-checked
 * (test/conformance/locks/model-inbox.test.ts). Any thread.
 */
export function inboxAskForRoom(f: FutexOps, b: number, writerSlot: number): void {
  f.store(b + Slot.InboxWaitingWriter, writerSlot + 1);
}

/**
 * The request for room, reader's side, after a drain published the read position: takes
 * the request and returns the slot of the writer to wake, or -1 when none asked (any
 * other value is not a slot only if a thread forged the word: the caller checks). Pairs
 * with the store in inboxAskForRoom(); the load spares the exchange when nobody asked.
 * Home thread of the inbox.
 */
export function inboxTakeWaitingWriter(f: FutexOps, b: number): number {
  if (f.load(b + Slot.InboxWaitingWriter) === 0) return -1;
  return f.exchange(b + Slot.InboxWaitingWriter, 0) - 1;
}

/** inboxAskForRoom() on `slot` of `table`. Any thread. */
export function askForRoom(table: WakeTable, slot: number, writerSlot: number): void {
  inboxAskForRoom(opsOf(table), table.base(slot), writerSlot);
}
