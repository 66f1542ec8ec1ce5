/**
 * Shared memory for this thread group: allocation of small `SharedArrayBuffer`s with a
 * clear error where the runtime has none (a browser page without cross-origin
 * isolation), and the wake table.
 *
 * The wake table is one `SharedArrayBuffer` that every thread of the group shares: each
 * live AioContext owns one slot in it holding its `notify_me` count, its `notified` flag,
 * the futex word it sleeps on, the head of its remote bottom-half list, and its inbox (a
 * byte ring other threads write requests and replies into, see inbox.ts). Objects that
 * must wake a context they were linked to after their handle was sent elsewhere (an
 * EventNotifier registered with a context) store the context's slot number, so any
 * thread that holds the table can wake it. Threads adopt the table of the first handle
 * they receive, or create one on first use.
 */
import { AioError, describeValue } from './errors.js';

/** Word offsets inside one wake-table slot. */
export const Slot = {
  /** Count of pollers about to sleep, in steps of 2 (QEMU's `notify_me`). */
  NotifyMe: 0,
  /** Set by notify, cleared by the poller when it accepts the notification. */
  Notified: 1,
  /** The word a blocking poll sleeps on; 1 when a wake-up is pending. */
  Wake: 2,
  /** The owning context's generation (never 0), 0 while the slot is free. */
  InUse: 3,
  /** Head of the lock-free list of bottom halves scheduled from other threads (an id, 0 = empty). */
  RemoteBhHead: 4,
  /** Number of `waitWhile` callers sleeping on this context (for `aioWaitKick`). */
  Waiters: 5,
  /** Lock-owner id of the context's home thread, so the slot is given back when that thread dies. */
  Owner: 6,
  /** Owner word of the inbox lock: the thread id of the producer holding it, so a dead one's lock can be taken over. */
  InboxLockOwner: 7,
  /** State word of the inbox producers' short lock (locks/short-lock.ts): 0 free, 1 held, 2 held with sleepers. */
  InboxLock: 8,
  /** Inbox write position in bytes (only grows, modulo 2^32). */
  InboxWrite: 9,
  /** Inbox read position in bytes (only grows, modulo 2^32). */
  InboxRead: 10,
  /** 1 when records were written since the home thread last looked. */
  InboxPending: 11,
  /**
   * Float64 over words 12-13: ns the context spent dispatching and busy-polling (published
   * when timing stats are on). Written by the home thread only, under TimesSeq.
   */
  BusyNs: 12,
  /** Float64 over words 14-15: ns the context spent sleeping. Written by the home thread only, under TimesSeq. */
  SleepNs: 14,
  /** The context lock, a RecMutex over words 16-18 (state, owner thread, depth). */
  Lock: 16,
  /** How many times a thread took the context lock over from a thread that ended holding it. */
  LockOwnerDeaths: 19,
  /**
   * The slot + 1 of a context whose thread has records waiting for room in this inbox
   * (its outbox), for the reader to wake once it freed room; 0 when none asked. One word:
   * the last writer to ask is the one woken (others retry on their own, inbox.ts).
   */
  InboxWaitingWriter: 20,
  /**
   * Sequence word of BusyNs and SleepNs (a seqlock: the home thread, their only writer,
   * makes it odd while it writes them; a reader retries when it saw it odd or changed).
   */
  TimesSeq: 23,
  /** Words per slot. */
  Size: 24,
} as const;

/** How many times times() reads a slot's published times before it stops waiting for a write to end. */
const TIMES_TRIES = 1000;
/** Number of slots, i.e. of contexts alive at once in one thread group. */
export const SLOTS = 1024;
/**
 * Bytes of each context's inbox ring (a power of two). 64 KiB holds about 2,000 calls of
 * numbers or short strings: a burst of thousands of calls waits in the ring, not in the
 * sender's outbox to be retried as the reader makes room (with 16 KiB, 20,000 calls in
 * flight ran 25-45 % slower, 100,000 up to 2x). The table is then about 64 MiB of address
 * space; only the pages the rings touch become memory (a first context costs 0.1-1.4 MiB
 * of RSS, as with 16 KiB).
 */
export const INBOX_BYTES = 65536;
const HEADER_WORDS = 16;
/** Header word: an id shared by every thread that uses this table. */
const TABLE_ID = 0;
/** Header word: where the next slot search starts. */
const NEXT_HINT = 1;
/** Header word: the last generation handed out. */
const GENERATION = 2;
/** Header word: the last id handed to a record some thread awaits (a call's reply, a lock hand-off). */
const RECORD_ID = 3;
/** Header word: how many thread ids were ever recorded as dead. */
const DEAD_COUNT = 4;
/** Header word: how many times contexts ended, closed or reclaimed from dead threads (pollers compare it). */
const ENDINGS = 5;
/** The InUse word of a slot whose context is closing: no longer alive, not yet free. */
const CLOSING = -0x80000000;
/** Header word: how many epitaphs were ever written. */
const EPITAPH_COUNT = 6;
/** Entries of the ring of recently dead thread ids (robust locks look owners up there). */
const DEAD_RING = 1024;
/** Entries of the ring of epitaphs: why the context of a slot and generation ended. */
const EPITAPHS = 64;
/** Bytes per epitaph: generation, slot and text length words, then the UTF-8 text. */
const EPITAPH_BYTES = 1024;
const EPITAPH_TEXT = EPITAPH_BYTES - 12;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes of a wake table: the header, the slots, the inbox rings, the ring of dead thread ids and the epitaphs. */
const TABLE_BYTES = (HEADER_WORDS + SLOTS * Slot.Size) * 4 + SLOTS * INBOX_BYTES + DEAD_RING * 4 + EPITAPHS * EPITAPH_BYTES;

/** The fields of a received handle that place it in a wake table. */
interface TableFields {
  table?: unknown;
  slot?: unknown;
  generation?: unknown;
}

/**
 * What is wrong with the wake-table fields of a received handle, or null: `table` must be
 * a wake table, and with `withSlot` also `slot` a slot number and `generation` a
 * generation (one of a closed context is well-formed: using it fails with ERR_AIO_CLOSED).
 * Any thread.
 */
export function tableFieldsProblem(h: TableFields, withSlot: boolean): string | null {
  if (!(h.table instanceof SharedArrayBuffer) || h.table.byteLength !== TABLE_BYTES) {
    return `its "table" is ${describeValue(h.table)}${h.table instanceof SharedArrayBuffer ? ` of ${h.table.byteLength} bytes` : ''}, not a wake table (a SharedArrayBuffer of ${TABLE_BYTES} bytes)`;
  }
  if (!withSlot) return null;
  const { slot, generation } = h;
  if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot >= SLOTS) {
    return `its "slot" is ${describeValue(slot)}, not an integer in [0, ${SLOTS - 1}]`;
  }
  if (typeof generation !== 'number' || (generation | 0) !== generation || generation === 0) {
    return `its "generation" is ${describeValue(generation)}, not a non-zero 32-bit integer`;
  }
  return null;
}

/** Allocates a `SharedArrayBuffer`, or explains why the runtime has none. */
export function allocShared(bytes: number): SharedArrayBuffer {
  if (typeof SharedArrayBuffer === 'undefined') {
    throw new AioError(
      'ERR_AIO_NO_SHARED_MEMORY',
      'SharedArrayBuffer is not available: a browser page needs cross-origin isolation ' +
        '(serve it with "Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp")',
    );
  }
  return new SharedArrayBuffer(bytes);
}

/** The group's wake table. */
export class WakeTable {
  readonly sab: SharedArrayBuffer;
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
  readonly view: DataView;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.words = new Int32Array(sab);
    this.bytes = new Uint8Array(sab);
    this.view = new DataView(sab);
  }

  /** A process-unique-enough id, so two tables can be told apart in error messages. */
  get id(): number {
    return Atomics.load(this.words, TABLE_ID);
  }

  /** Word index of a slot's first word. */
  base(slot: number): number {
    return HEADER_WORDS + slot * Slot.Size;
  }

  /**
   * Records that thread `id` ended, so locks it holds report owner death. A thread seen
   * ending twice (its parent and an aio-wide hook may both report it) is recorded once.
   * Any thread.
   */
  markThreadDead(id: number): void {
    if (this.isThreadDead(id)) return;
    // Pairs with the load of the count in isThreadDead(): the entry is stored after the
    // count grew, so a reader may see the slot before its id (it then reads a stale id
    // or 0 and answers false, and asks again at its next check).
    const n = Atomics.add(this.words, DEAD_COUNT, 1);
    Atomics.store(this.words, this.#deadBase() + (n % DEAD_RING), id);
  }

  /**
   * True when thread `id` was recorded as dead (among the last 1024). A linear scan, made
   * only by lockers that already waited (robust.ts), never on an uncontended path. Any
   * thread.
   */
  isThreadDead(id: number): boolean {
    const n = Math.min(Atomics.load(this.words, DEAD_COUNT), DEAD_RING);
    const base = this.#deadBase();
    for (let i = 0; i < n; i++) if (Atomics.load(this.words, base + i) === id) return true;
    return false;
  }

  #deadBase(): number {
    return this.inboxOffset(SLOTS) >> 2;
  }

  #epitaphOffset(i: number): number {
    return this.inboxOffset(SLOTS) + DEAD_RING * 4 + i * EPITAPH_BYTES;
  }

  /**
   * Gives back every slot whose home thread `thread` died without closing it, recording
   * `cause` as each one's epitaph, and returns how many. Senders then fail at once with the
   * cause (see `epitaph`); the caller wakes every context (`notifyAll`) so that threads
   * with calls waiting on those contexts fail them. Any thread, once the thread is gone.
   */
  reclaimSlotsOf(thread: number, cause: string): number {
    let reclaimed = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      const b = this.base(slot);
      const gen = Atomics.load(this.words, b + Slot.InUse);
      if (gen === 0 || gen === CLOSING) continue;
      // Taking the owner word first makes one reclaimer win when two report the same
      // end; the dead thread itself can no longer close the slot under us.
      if (Atomics.compareExchange(this.words, b + Slot.Owner, thread, 0) !== thread) continue;
      this.#writeEpitaph(slot, gen, cause);
      // Pairs with the compareExchange in claim(): the slot is free from here on.
      if (Atomics.compareExchange(this.words, b + Slot.InUse, gen, 0) === gen) reclaimed++;
    }
    // Pairs with the load in endings(): a poller that sees the new count looks again.
    if (reclaimed > 0) Atomics.add(this.words, ENDINGS, 1);
    return reclaimed;
  }

  /**
   * How many times a context of this group ended (closed, or reclaimed from a dead
   * thread); a poller that sees it change looks for calls waiting on ended contexts. Any
   * thread.
   */
  endings(): number {
    return Atomics.load(this.words, ENDINGS);
  }

  #writeEpitaph(slot: number, generation: number, cause: string): void {
    const at = this.#epitaphOffset(Atomics.add(this.words, EPITAPH_COUNT, 1) % EPITAPHS);
    const w = at >> 2;
    // Generation last, 0 while writing: a reader that sees the generation sees the text.
    Atomics.store(this.words, w, 0);
    Atomics.store(this.words, w + 1, slot);
    const bytes = encoder.encode(cause.length > EPITAPH_TEXT ? cause.slice(0, EPITAPH_TEXT) : cause).subarray(0, EPITAPH_TEXT);
    this.bytes.set(bytes, at + 12);
    Atomics.store(this.words, w + 2, bytes.length);
    Atomics.store(this.words, w, generation);
  }

  /**
   * Why the context of `slot` and `generation` ended, if its thread died (among the last
   * 64 such contexts); null for a context that was closed, or whose epitaph was overwritten.
   * Any thread.
   */
  epitaph(slot: number, generation: number): string | null {
    for (let i = 0; i < EPITAPHS; i++) {
      const at = this.#epitaphOffset(i);
      const w = at >> 2;
      if (Atomics.load(this.words, w) !== generation || Atomics.load(this.words, w + 1) !== slot) continue;
      const len = Math.min(Math.max(Atomics.load(this.words, w + 2), 0), EPITAPH_TEXT);
      // slice() copies out of shared memory: TextDecoder refuses shared views.
      const text = decoder.decode(this.bytes.slice(at + 12, at + 12 + len));
      if (Atomics.load(this.words, w) === generation) return text;
    }
    return null;
  }

  /** Publishes a context's busy and sleep times. The context's home thread only (the one writer). */
  publishTimes(slot: number, busyNs: number, sleepNs: number): void {
    const b = this.base(slot);
    // Odd while writing; pairs with the loads in times(). The Float64 stores between the
    // two adds are plain: the sequence tells a reader whether they tore.
    Atomics.add(this.words, b + Slot.TimesSeq, 1);
    this.view.setFloat64((b + Slot.BusyNs) * 4, busyNs, true);
    this.view.setFloat64((b + Slot.SleepNs) * 4, sleepNs, true);
    Atomics.add(this.words, b + Slot.TimesSeq, 1);
  }

  /**
   * A context's busy and sleep times as last published, not torn by a write in progress.
   * A writer that ended in the middle of a write leaves the sequence odd for good: after
   * TIMES_TRIES reads the values are returned as they are (statistics of a dead thread)
   * rather than waited for. Any thread.
   */
  times(slot: number): { busyNs: number; sleepNs: number } {
    const b = this.base(slot);
    for (let tries = 1; ; tries++) {
      // Pairs with the adds in publishTimes(): an even sequence unchanged across the reads
      // means no write overlapped them.
      const seq = Atomics.load(this.words, b + Slot.TimesSeq);
      const busyNs = this.view.getFloat64((b + Slot.BusyNs) * 4, true);
      const sleepNs = this.view.getFloat64((b + Slot.SleepNs) * 4, true);
      const clean = (seq & 1) === 0 && Atomics.load(this.words, b + Slot.TimesSeq) === seq;
      if (clean || tries >= TIMES_TRIES) return { busyNs, sleepNs };
    }
  }

  /**
   * A new id for a record this thread will await (a call's reply, a lock hand-off):
   * positive and unique in the thread group (0 is skipped when the counter wraps). Any thread.
   */
  nextRecordId(): number {
    const id = Atomics.add(this.words, RECORD_ID, 1) + 1;
    return id > 0 ? id : Atomics.add(this.words, RECORD_ID, 1) + 1;
  }

  /** Byte offset of a slot's inbox ring. */
  inboxOffset(slot: number): number {
    return (HEADER_WORDS + SLOTS * Slot.Size) * 4 + slot * INBOX_BYTES;
  }

  /** The generation of the context that owns `slot` now (0 when free). Any thread. */
  generation(slot: number): number {
    return Atomics.load(this.words, this.base(slot) + Slot.InUse);
  }

  /**
   * Claims a free slot for a new context whose home thread has lock-owner id `owner`;
   * returns [slot, generation]. Handles carry the
   * generation, so a handle of a closed context is recognised even after its slot is reused.
   * Throws ERR_AIO_THREAD_DIED, claiming nothing, in a thread already recorded as dead: a
   * worker its parent gave up on (an abandoned create()) may still run a moment where the
   * runtime ends workers late, and its parent has already given back its slots.
   * Any thread.
   */
  claim(owner: number): [number, number] {
    // As the word stores them: a generation past 2^31 - 1 wraps, and handles carry it as stored.
    let gen = (Atomics.add(this.words, GENERATION, 1) + 1) | 0;
    while (gen === 0 || gen === CLOSING) gen = (Atomics.add(this.words, GENERATION, 1) + 1) | 0;
    const start = Atomics.load(this.words, NEXT_HINT);
    for (let i = 0; i < SLOTS; i++) {
      const slot = (start + i) % SLOTS;
      const b = this.base(slot);
      // Pairs with the store of 0 in release(): a freed slot can be claimed again.
      if (Atomics.compareExchange(this.words, b + Slot.InUse, 0, gen) === 0) {
        for (let w = 0; w < Slot.Size; w++) if (w !== Slot.InUse) Atomics.store(this.words, b + w, 0);
        Atomics.store(this.words, b + Slot.Owner, owner);
        Atomics.store(this.words, NEXT_HINT, (slot + 1) % SLOTS);
        // After the store of the owner, as reclaimSlotsOf() marks the thread dead before it
        // scans the owners: of this load and that scan, whichever comes second sees the
        // other, so a claim racing its thread's burial is given back by one of the two
        // (the compare-exchange of the owner picks which).
        if (this.isThreadDead(owner)) {
          if (Atomics.compareExchange(this.words, b + Slot.Owner, owner, 0) === owner) {
            Atomics.store(this.words, b + Slot.InUse, 0);
            Atomics.add(this.words, ENDINGS, 1);
          }
          throw new AioError('ERR_AIO_THREAD_DIED', `thread ${owner} was recorded as ended: it may create no context`);
        }
        return [slot, gen];
      }
    }
    throw new AioError('ERR_AIO_CLOSED', `too many live AioContexts (${SLOTS}); close() the ones no longer used`);
  }

  /**
   * First step of giving a slot back: the context is no longer alive for senders (a sender
   * checks the generation again after it appended, so a record either reaches the drain
   * that follows or its sender fails the call itself), and not yet free. Home thread of
   * the context.
   */
  beginRelease(slot: number): void {
    // Owner first: a reclaimer that sees the slot claimed again must not see this owner.
    Atomics.store(this.words, this.base(slot) + Slot.Owner, 0);
    // Pairs with the sender's load of the generation after its append (calls.ts).
    Atomics.store(this.words, this.base(slot) + Slot.InUse, CLOSING);
  }

  /** Gives a slot back after beginRelease() and the last drain of its inbox. Home thread of the context. */
  release(slot: number): void {
    Atomics.store(this.words, this.base(slot) + Slot.InUse, 0);
    // Pairs with the load in endings().
    Atomics.add(this.words, ENDINGS, 1);
  }
}

let table: WakeTable | undefined;

/** This thread's wake table, created on first use. */
export function wakeTable(): WakeTable {
  if (!table) {
    const t = new WakeTable(allocShared(TABLE_BYTES));
    Atomics.store(t.words, TABLE_ID, 1 + Math.floor(Math.random() * 0x7ffffffe));
    table = t;
  }
  return table;
}

/** This thread's wake table if it has one yet (nothing is allocated). Any code in this thread. */
export function existingWakeTable(): WakeTable | undefined {
  return table;
}

/**
 * The table a received handle refers to. The first table a thread sees becomes its own,
 * so objects it creates later can be linked with the sender's.
 */
export function adoptWakeTable(sab: SharedArrayBuffer): WakeTable {
  if (!table) table = new WakeTable(sab);
  // Each structured clone makes a new SharedArrayBuffer object over the same memory, so
  // tables are told apart by the id stored in them, not by object identity.
  if (table.sab === sab) return table;
  const other = new WakeTable(sab);
  return other.id === table.id ? table : other;
}
