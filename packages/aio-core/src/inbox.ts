/**
 * Context inboxes: how work crosses threads without postMessage. Each context's slot in
 * the wake table has a byte ring. Any thread appends a record (a length word, then UTF-8
 * JSON); only the home thread reads. Producers serialise on a small futex lock in the
 * slot; the home thread reads without the lock, because it is the only reader and it
 * publishes its read position with a store the producers load.
 *
 * Ordering: a producer writes the record bytes, then stores the write position
 * (Atomics.store); the reader loads the write position (Atomics.load) before it reads the
 * bytes, so it never sees a position ahead of its bytes. Then the producer sets
 * InboxPending and notifies the context (aio_notify), which the poll pairs with as for any
 * notify.
 *
 * Records that do not fit (a ring of INBOX_BYTES, a record at most half of it) are the
 * caller's problem: `tryAppend` returns false and the caller retries later or uses
 * another channel.
 *
 * The ring is shared memory any thread of the group can write, so the reader trusts
 * nothing in it. A record whose bytes are not JSON is skipped (its length word still says
 * where the next one starts). A length word or position no producer writes (negative,
 * beyond the largest record, past the write position, a record crossing the end of the
 * ring, positions more than a ring apart) leaves no way to find the next record: the
 * reader then drops everything written so far (read position := write position), which
 * also lets producers append again, and reports it. Either way the read position moves
 * on, so a bad record is never read twice.
 */
import { getHost } from './host.js';
import { threadId } from './locks/thread-id.js';
import { notifySlot } from './notify.js';
import { INBOX_BYTES, Slot, type WakeTable } from './shared-memory.js';

const MASK = INBOX_BYTES - 1;
/** Length word that means "skip to the start of the ring". */
const WRAP = -1;
/** Largest payload accepted, so one record never needs most of the ring. */
export const MAX_RECORD_BYTES = INBOX_BYTES / 2 - 8;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Takes the producer lock of the slot whose first word is `b`. A holder that died in the
 * middle of an append (a worker terminated there) would hold it forever: a producer that
 * has waited finds the holder's thread recorded dead and takes the lock over. What the
 * dead holder wrote is past the published write position, so no reader ever sees it.
 */
function lock(table: WakeTable, b: number): void {
  const w = table.words;
  const i = b + Slot.InboxLock;
  const me = threadId();
  // Pairs with the exchange in unlock().
  if (Atomics.compareExchange(w, i, 0, 1) === 0) {
    Atomics.store(w, b + Slot.InboxLockOwner, me);
    return;
  }
  const canBlock = getHost().canBlock();
  for (let spins = 0; ; spins++) {
    // 2 marks "held with waiters", so the holder knows to wake someone.
    if (Atomics.exchange(w, i, 2) === 0) {
      Atomics.store(w, b + Slot.InboxLockOwner, me);
      return;
    }
    if (spins > 16) {
      const owner = Atomics.load(w, b + Slot.InboxLockOwner);
      // Exactly one producer wins the dead holder's lock: the one whose compareExchange
      // replaces its id.
      if (owner !== 0 && owner !== me && table.isThreadDead(owner) && Atomics.compareExchange(w, b + Slot.InboxLockOwner, owner, me) === owner) return;
      // Pairs with the notify in unlock(). A thread that may not block spins instead: the
      // critical section is a copy of at most a few KiB.
      if (canBlock) Atomics.wait(w, i, 2, 1);
    }
  }
}

function unlock(w: Int32Array, b: number): void {
  Atomics.store(w, b + Slot.InboxLockOwner, 0);
  if (Atomics.exchange(w, b + Slot.InboxLock, 0) === 2) Atomics.notify(w, b + Slot.InboxLock, 1);
}

/** Encodes a message for an inbox (`json`: its JSON text, when already made). Any thread. */
export function encodeRecord(message: unknown, json: string = JSON.stringify(message)): Uint8Array {
  return encoder.encode(json);
}

/**
 * Appends an encoded record to `slot`'s inbox and wakes its context. Returns false when
 * the ring has no room now. Any thread.
 */
export function tryAppend(table: WakeTable, slot: number, payload: Uint8Array): boolean {
  return append(table, slot, payload.length, (dest) => {
    dest.set(payload);
    return payload.length;
  });
}

/** Whether TextEncoder may write into shared memory here (WebIDL [AllowShared]; checked once). */
let encodeIntoShared: boolean | undefined;

/**
 * Appends the record whose JSON text is `json`, encoding it straight into the ring (no
 * intermediate bytes), and wakes the context. Returns false when the ring has no room
 * for the text's largest UTF-8 form now, or where TextEncoder cannot write shared memory
 * (the caller then sends encoded bytes). Any thread.
 */
export function tryAppendJson(table: WakeTable, slot: number, json: string): boolean {
  if (encodeIntoShared === undefined) {
    try {
      encoder.encodeInto('', table.bytes.subarray(0, 0));
      encodeIntoShared = true;
    } catch {
      encodeIntoShared = false;
    }
  }
  if (!encodeIntoShared) return false;
  // Three bytes per UTF-16 unit is the most UTF-8 can take (a surrogate pair: 4 for 2).
  return append(table, slot, json.length * 3, (dest) => encoder.encodeInto(json, dest).written);
}

/**
 * Reserves room for a record of at most `maxLength` bytes, lets `write` fill it (returning
 * the bytes written), and publishes it.
 */
function append(table: WakeTable, slot: number, maxLength: number, write: (dest: Uint8Array) => number): boolean {
  const w = table.words;
  const b = table.base(slot);
  const need = 4 + ((maxLength + 3) & ~3);
  lock(table, b);
  try {
    const pos = Atomics.load(w, b + Slot.InboxWrite) >>> 0;
    const read = Atomics.load(w, b + Slot.InboxRead) >>> 0;
    const used = (pos - read) >>> 0;
    let at = pos & MASK;
    const tail = INBOX_BYTES - at;
    const wraps = tail < need;
    if (used + need + (wraps ? tail : 0) > INBOX_BYTES) return false;
    const base = table.inboxOffset(slot);
    let next = pos;
    if (wraps) {
      table.view.setInt32(base + at, WRAP, true);
      next = (next + tail) >>> 0;
      at = 0;
    }
    const length = write(table.bytes.subarray(base + at + 4, base + at + 4 + maxLength));
    table.view.setInt32(base + at, length, true);
    // Publishes the bytes above; pairs with the load in drain().
    Atomics.store(w, b + Slot.InboxWrite, (next + 4 + ((length + 3) & ~3)) | 0);
  } finally {
    unlock(w, b);
  }
  Atomics.store(w, b + Slot.InboxPending, 1);
  notifySlot(table, slot);
  return true;
}

/**
 * Takes every record written so far, parsed, in order (their shape is not checked here).
 * `bad` is told of each record skipped and of a reset of a corrupt ring. Home thread only.
 */
export function drain(table: WakeTable, slot: number, into: unknown[], bad: (problem: string) => void): void {
  const w = table.words;
  const b = table.base(slot);
  // Clear first: a record written after this is either seen below or re-flags the inbox.
  Atomics.store(w, b + Slot.InboxPending, 0);
  const base = table.inboxOffset(slot);
  let read = Atomics.load(w, b + Slot.InboxRead) >>> 0;
  // Pairs with the store of the write position in tryAppend().
  const write = Atomics.load(w, b + Slot.InboxWrite) >>> 0;
  let corrupt: string | null = null;
  if (((write - read) >>> 0) > INBOX_BYTES || ((write | read) & 3) !== 0) {
    corrupt = `its write position (${write}) and read position (${read}) are not those of a ring of ${INBOX_BYTES} bytes`;
  }
  while (corrupt === null && read !== write) {
    const at = read & MASK;
    const unread = (write - read) >>> 0;
    const len = table.view.getInt32(base + at, true);
    if (len === WRAP && at !== 0 && INBOX_BYTES - at <= unread) {
      read = (read + (INBOX_BYTES - at)) >>> 0;
      continue;
    }
    const size = 4 + ((len + 3) & ~3);
    if (len < 0 || len > MAX_RECORD_BYTES || size > unread || at + size > INBOX_BYTES) {
      corrupt = `a record at offset ${at} has the length word ${len}`;
      break;
    }
    try {
      // slice() copies out of shared memory: TextDecoder refuses shared views.
      into.push(JSON.parse(decoder.decode(table.bytes.slice(base + at + 4, base + at + 4 + len))));
    } catch {
      bad(`dropped an inbox record of ${len} bytes that is not JSON`);
    }
    read = (read + size) >>> 0;
  }
  if (corrupt !== null) {
    bad(`its inbox ring is corrupt (${corrupt}): dropped the ${(write - read) >>> 0} unread bytes written before this poll`);
    read = write;
  }
  Atomics.store(w, b + Slot.InboxRead, read | 0);
}
