/**
 * Model checking of the inbox ring's position protocol (inbox.ts): two producers append
 * records under the short lock, the home thread drains them, on a ring small enough to
 * fill, wrap and drain within a few records. Checks: every record is read exactly once,
 * whole, and in each producer's order; none is lost when the ring fills (a producer then
 * retries, as the outbox does); the InboxPending flag never leaves the reader asleep
 * with records unread. The context's own wake-up (notify.ts, checked on its own) is
 * stood in for by a futex on the flag word. Byte copies are plain accesses, made steps
 * here, so a reader or producer that publishes a position too early is seen. Broken
 * variants the checker must catch: a reader that publishes its read position before it
 * reads the record, a producer that publishes the write position before the length word
 * and bytes, and two orders of the flag hand-over that lose a wake-up.
 *
 * Then the request for room (inboxAskForRoom / inboxTakeWaitingWriter): a writer that
 * finds the ring full asks the reader to wake it, looks at the read position once more,
 * and sleeps; the reader takes the request after each drain and wakes it. The writer's
 * own wake-up (notifySlot) is stood in for by a futex word. Broken variants: a writer that
 * sleeps without looking again, one that looks before it asks, and a reader that never
 * takes the request.
 */
import { describe, expect, it } from 'vitest';
import {
  NO_ROOM,
  WRAP,
  inboxAskForRoom,
  inboxDrain,
  inboxMarkPending,
  inboxPublish,
  inboxReserve,
  inboxTakeWaitingWriter,
  recordSize,
} from '../../../packages/aio-core/src/threads/inbox.js';
import { AtomicsOps } from '../../../packages/aio-core/src/locks/atomics-ops.js';
import type { FutexOps } from '../../../packages/aio-core/src/locks/futex.js';
import { shortUnlock } from '../../../packages/aio-core/src/locks/short-lock.js';
import { Slot } from '../../../packages/aio-core/src/base/shared-memory.js';
import { type CheckOptions, type Model, type SimThread, checkpoint } from './model-checker.js';
import { takeShortLock } from './short-lock-programs.js';
import { expectCaught, expectClean } from './model-expect.js';

/** The slot starts at word 0; its ring follows it. */
const B = 0;
const RING = Slot.InboxPending + 1;
/** A ring of 32 bytes: records of 8 (one payload word) and 12 bytes (two) fill it in three. */
const BYTES = 32;
const WORDS = RING + BYTES / 4;
const LOCK = B + Slot.InboxLock;
const OWNER = B + Slot.InboxLockOwner;
const WRITE = B + Slot.InboxWrite;
const READ = B + Slot.InboxRead;
const PENDING = B + Slot.InboxPending;

/** A record's payload: each of its words is `producer * 16 + sequence number`. */
const value = (producer: number, seq: number): number => producer * 16 + seq;

type Append = (f: FutexOps, me: number, length: number, v: number) => boolean;
type Drain = (f: FutexOps, visit: (at: number, length: number) => void) => void;

/** The real append: lock, reserve, copy the payload words, publish, unlock. */
const append: Append = (f, me, length, v) => {
  takeShortLock(f, `append ${v}`, LOCK, OWNER, me);
  const pos = inboxReserve(f, B, RING, BYTES, recordSize(length));
  if (pos !== NO_ROOM) {
    const at = RING + ((pos & (BYTES - 1)) >> 2) + 1;
    for (let i = 0; i < length / 4; i++) f.write(at + i, v);
    inboxPublish(f, B, RING, BYTES, pos, length);
  }
  shortUnlock(f, LOCK, OWNER);
  return pos !== NO_ROOM;
};

/** The real drain; a corrupt ring is a failure here. */
const drain: Drain = (f, visit) =>
  inboxDrain(f, B, RING, BYTES, visit, (problem) => {
    throw new Error(problem);
  });

/** Appends records of `lengths` bytes in order, each retried until there is room; then flags and wakes. */
function producer(lengths: readonly number[], appendOne: Append = append, flag = inboxMarkPending): SimThread['run'] {
  return (f, me) => {
    for (let seq = 0; seq < lengths.length; seq++) {
      const v = value(me, seq);
      for (;;) {
        checkpoint(f, `record ${seq}`);
        if (appendOne(f, me, lengths[seq]!, v)) break;
      }
      checkpoint(f, `flag ${seq}`);
      flag(f, B);
      f.notify(PENDING, 1);
    }
    return lengths.length;
  };
}

/** Drains until it has read `total` records, sleeping on the flag between drains; returns what it read. */
function reader(total: number, drainOnce: Drain = drain): SimThread['run'] {
  return (f) => {
    const got: number[] = [];
    for (;;) {
      checkpoint(f, `read ${got.join(',')}`);
      drainOnce(f, (at, length) => {
        const first = f.read(RING + (at >> 2) + 1);
        for (let i = 1; i < length / 4; i++) {
          if (f.read(RING + (at >> 2) + 1 + i) !== first) throw new Error(`record ${first} read torn`);
        }
        got.push(first);
      });
      if (got.length >= total) return got;
      checkpoint(f, `sleep ${got.join(',')}`);
      f.wait(PENDING, 0, false);
    }
  };
}

function inboxModel(p1: readonly number[], p2: readonly number[], parts: { append?: Append; drain?: Drain; flag?: typeof inboxMarkPending } = {}): Model {
  const expected = (me: number, n: number) => Array.from({ length: n }, (_, seq) => value(me, seq));
  return {
    words: WORDS,
    threads: [
      { name: 'P1', run: producer(p1, parts.append, parts.flag) },
      { name: 'P2', run: producer(p2, parts.append, parts.flag) },
      { name: 'reader', run: reader(p1.length + p2.length, parts.drain) },
    ],
    // The reader asleep with records published and unread: a lost wake-up.
    canProceed: (m) => m[WRITE] !== m[READ],
    final: (m, results) => {
      const got = results[2] as number[];
      for (const me of [1, 2]) {
        const mine = got.filter((v) => v >> 4 === me);
        const want = expected(me, me === 1 ? p1.length : p2.length);
        if (mine.join() !== want.join()) return `P${me}'s records read as [${mine}], not [${want}] (all: [${got}])`;
      }
      if (got.length !== p1.length + p2.length) return `read [${got}]: a record that nobody wrote`;
      if (m[WRITE] !== m[READ] || m[LOCK] !== 0) return `ring left with write ${m[WRITE]}, read ${m[READ]}, lock ${m[LOCK]}`;
      return undefined;
    },
  };
}

/** Plain accesses (the byte copies, the length words) are steps; retries of a full ring are cut at the bound. */
const OPTIONS: CheckOptions = { plainAccessesAreSteps: true, maxSteps: 70 };



describe('/inbox/model', () => {
  it('two producers, one record each, and the reader', () => {
    const r = expectClean('inbox 1+1', inboxModel([4], [8]), OPTIONS);
    expect(r.truncated).toBe(0);
  });

  it('two records and one: the ring fills, wraps and drains', () => {
    expectClean('inbox 2+1 wrapping', inboxModel([8, 8], [8]), OPTIONS);
  });

  it('the sizes above fill the ring and wrap (a walk-through in one thread)', () => {
    const f = new AtomicsOps(new Int32Array(new SharedArrayBuffer(WORDS * 4)));
    const got: number[] = [];
    const read = () => drain(f, (at) => got.push(f.load(RING + (at >> 2) + 1)));
    expect(append(f, 1, 8, value(1, 0))).toBe(true);
    expect(append(f, 1, 8, value(1, 1))).toBe(true);
    expect(append(f, 2, 8, value(2, 0))).toBe(false); // full: 24 of 32 bytes, and 12 do not fit before the end
    read();
    expect(append(f, 2, 8, value(2, 0))).toBe(true);
    expect(f.load(RING + 24 / 4)).toBe(WRAP);
    read();
    expect(got).toEqual([value(1, 0), value(1, 1), value(2, 0)]);
    expect(f.load(READ)).toBe(f.load(WRITE));
  });

  it('catches a reader that publishes its read position before it reads the record', () => {
    const early: Drain = (f, visit) => {
      f.store(PENDING, 0);
      let read = f.load(READ) >>> 0;
      const write = f.load(WRITE) >>> 0;
      while (read !== write) {
        const at = read & (BYTES - 1);
        const length = f.read(RING + (at >> 2));
        if (length === WRAP) {
          read = (read + BYTES - at) >>> 0;
          continue;
        }
        f.store(READ, (read + recordSize(length)) | 0); // too early: the record is not read yet
        visit(at, length);
        read = (read + recordSize(length)) >>> 0;
      }
      f.store(READ, read | 0);
    };
    expectCaught('broken inbox: read position published before reading', inboxModel([8, 8], [8], { drain: early }), ['final', 'exception'], OPTIONS);
  });

  it('catches a producer that publishes the write position before the length word and bytes', () => {
    const early: Append = (f, me, length, v) => {
      takeShortLock(f, `append ${v}`, LOCK, OWNER, me);
      const pos = inboxReserve(f, B, RING, BYTES, recordSize(length));
      if (pos !== NO_ROOM) {
        f.store(WRITE, (pos + recordSize(length)) | 0); // too early: nothing is written yet
        const at = RING + ((pos & (BYTES - 1)) >> 2);
        f.write(at, length);
        for (let i = 0; i < length / 4; i++) f.write(at + 1 + i, v);
      }
      shortUnlock(f, LOCK, OWNER);
      return pos !== NO_ROOM;
    };
    expectCaught('broken inbox: write position published before the record', inboxModel([4], [8], { append: early }), ['final', 'exception'], OPTIONS);
  });

  it('catches a reader that clears the flag after it loaded the write position (lost wake-up)', () => {
    const lateClear: Drain = (f, visit) => {
      // The real drain with the flag cleared too late: after the position it pairs with.
      const write = f.load(WRITE);
      f.store(PENDING, 0);
      let read = f.load(READ) >>> 0;
      while (read !== write >>> 0) {
        const at = read & (BYTES - 1);
        const length = f.read(RING + (at >> 2));
        visit(at, length);
        read = (read + recordSize(length)) >>> 0;
      }
      f.store(READ, read | 0);
    };
    expectCaught('broken inbox: flag cleared after the write position', inboxModel([4], [4], { drain: lateClear }), ['lost-wakeup'], OPTIONS);
  });

  it('catches a producer that flags the inbox before it publishes the record (lost wake-up)', () => {
    const flagFirst: Append = (f, me, length, v) => {
      inboxMarkPending(f, B);
      f.notify(PENDING, 1);
      return append(f, me, length, v);
    };
    expectCaught('broken inbox: flag before publish', inboxModel([4], [4], { append: flagFirst, flag: () => {} }), ['lost-wakeup'], OPTIONS);
  });
});

/** The writer's slot number in the room model, and the words past the ring it uses. */
const WRITER_SLOT = 1;
const WAITING = B + Slot.InboxWaitingWriter;
/** The stand-in for the writer context's wake-up: 1 once the reader woke it. */
const WRITER_WAKE = Math.max(WORDS, WAITING + 1);
const ROOM_WORDS = WRITER_WAKE + 1;

type Ask = (f: FutexOps, read: number) => boolean;

/**
 * The outbox's order (outbox.ts flushQueue): the read position before the try; when the
 * try finds no room, ask, then look at the position again; true: sleep (it has not moved).
 */
const askThenLook: Ask = (f, read) => {
  inboxAskForRoom(f, B, WRITER_SLOT);
  return f.load(READ) === read;
};

/** Appends records of `lengths` bytes in order; when the ring is full, asks for room and sleeps until woken. */
function roomWriter(lengths: readonly number[], ask: Ask): SimThread['run'] {
  return (f, me) => {
    for (let seq = 0; seq < lengths.length; seq++) {
      const v = value(me, seq);
      for (;;) {
        checkpoint(f, `record ${seq}`);
        const read = f.load(READ);
        if (append(f, me, lengths[seq]!, v)) break;
        if (!ask(f, read)) continue;
        checkpoint(f, `sleep ${seq}`);
        f.wait(WRITER_WAKE, 0, false);
        f.store(WRITER_WAKE, 0);
      }
      checkpoint(f, `flag ${seq}`);
      inboxMarkPending(f, B);
      f.notify(PENDING, 1);
    }
    return lengths.length;
  };
}

/** The reader: after each drain, takes the request for room and wakes the writer that made it. */
function roomDrain(take: boolean): Drain {
  return (f, visit) => {
    drain(f, visit);
    if (!take) return;
    const writer = inboxTakeWaitingWriter(f, B);
    if (writer === WRITER_SLOT) {
      f.store(WRITER_WAKE, 1);
      f.notify(WRITER_WAKE, 1);
    } else if (writer !== -1) throw new Error(`woke slot ${writer}, not the writer's`);
  };
}

function roomModel(lengths: readonly number[], parts: { ask?: Ask; take?: boolean } = {}): Model {
  return {
    words: ROOM_WORDS,
    threads: [
      { name: 'writer', run: roomWriter(lengths, parts.ask ?? askThenLook) },
      { name: 'reader', run: reader(lengths.length, roomDrain(parts.take ?? true)) },
    ],
    // Both asleep is always a lost wake-up here: an empty ring lets the writer go on, a
    // ring with records the reader.
    canProceed: () => true,
    final: (m, results) => {
      const got = results[1] as number[];
      const want = lengths.map((_, seq) => value(1, seq));
      if (got.join() !== want.join()) return `read [${got}], not [${want}]`;
      if (m[WAITING] !== 0 && m[WAITING] !== WRITER_SLOT + 1) return `request word left at ${m[WAITING]}`;
      return undefined;
    },
  };
}

describe('/inbox/model/room', () => {
  it('a writer that fills the ring sleeps until the reader makes room, and is woken', () => {
    const r = expectClean('inbox room: 3 records, room for 2', roomModel([8, 8, 8]), { maxSteps: 120 });
    expect(r.truncated).toBe(0);
  });

  it('catches a writer that sleeps without looking at the read position again', () => {
    const askOnly: Ask = (f) => {
      inboxAskForRoom(f, B, WRITER_SLOT);
      return true;
    };
    expectCaught('broken room: no second look', roomModel([8, 8, 8], { ask: askOnly }), ['lost-wakeup'], { maxSteps: 120 });
  });

  it('catches a writer that looks before it asks', () => {
    const lookThenAsk: Ask = (f, read) => {
      const moved = f.load(READ) !== read;
      inboxAskForRoom(f, B, WRITER_SLOT);
      return !moved;
    };
    expectCaught('broken room: look, then ask', roomModel([8, 8, 8], { ask: lookThenAsk }), ['lost-wakeup'], { maxSteps: 120 });
  });

  it('catches a reader that never takes the request', () => {
    expectCaught('broken room: reader ignores the request', roomModel([8, 8, 8], { take: false }), ['lost-wakeup'], { maxSteps: 120 });
  });
});
