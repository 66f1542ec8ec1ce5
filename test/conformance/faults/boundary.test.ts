/**
 * Faults at the boundary: what another thread hands over (a handle, a record in an inbox,
 * an entry of a remote bottom-half list, a message on an IOThread's port) is checked where
 * it is received. A malformed handle is refused by `from()` with ERR_AIO_BAD_HANDLE; a
 * malformed record is dropped and reported to the receiving context's error handler
 * (ERR_AIO_BAD_RECORD), and the receiver goes on: it never throws, wedges or spins on it.
 * Records are forged black-box, the way a hostile thread would: by writing bytes into the
 * wake table every context handle carries. Also: error texts stay small whatever the name
 * or message, `-0` survives call(), and importing the package needs no Deno permission.
 * In browsers, a worker's malformed thread start requests to its window are dropped too.
 */
import {
  AioContext,
  type AioError,
  BottomHalf,
  CoMutex,
  Cond,
  type ContextHandle,
  Event,
  EventNotifier,
  IOThread,
  LockCnt,
  Mutex,
  RecMutex,
  Semaphore,
  registerFunction,
  startWorker,
} from 'aio-under-test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blockingPoll, flush, runtime } from '../support/runtime.js';

const moduleUrl = new URL('../workers/boundary-module.mjs', import.meta.url);

/**
 * The wake table's layout (shared-memory.ts), as a thread that forges records sees it. The
 * first test checks it against a live context, so a layout change fails there, loudly.
 */
const L = {
  headerWords: 16,
  slotWords: 24,
  slots: 1024,
  inboxBytes: 65536,
  inUse: 3,
  remoteBhHead: 4,
  /** Header word: the last id given to a record a thread awaits (a call's reply, a lock hand-off). */
  lastRecordId: 3,
  inboxWrite: 9,
  inboxRead: 10,
  inboxPending: 11,
  /** The slot + 1 of a writer that asked the reader for room (inbox.ts askForRoom). */
  inboxWaitingWriter: 20,
  /** Sequence word of the published busy/sleep times (a seqlock: odd while written). */
  timesSeq: 23,
} as const;

function word(h: ContextHandle, w: number): number {
  return L.headerWords + h.slot * L.slotWords + w;
}

/** Appends a raw record (length word, then `bytes`) to the inbox of `h` and wakes its context. */
function forge(h: ContextHandle, bytes: Uint8Array | string, lengthWord?: number): void {
  const payload = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const words = new Int32Array(h.table);
  const ring = (L.headerWords + L.slots * L.slotWords) * 4 + h.slot * L.inboxBytes;
  const pos = Atomics.load(words, word(h, L.inboxWrite)) >>> 0;
  const at = pos & (L.inboxBytes - 1);
  expect(at + 4 + payload.length).toBeLessThanOrEqual(L.inboxBytes); // the tests' records never wrap
  new DataView(h.table).setInt32(ring + at, lengthWord ?? payload.length, true);
  new Uint8Array(h.table).set(payload, ring + at + 4);
  Atomics.store(words, word(h, L.inboxWrite), (pos + 4 + ((payload.length + 3) & ~3)) | 0);
  Atomics.store(words, word(h, L.inboxPending), 1);
  AioContext.from(h).notify();
}

let hits = 0;
registerFunction('boundary.hit', () => ++hits);

let ctx: AioContext;
let faults: AioError[];
beforeEach(() => {
  hits = 0;
  faults = [];
  ctx = new AioContext({ name: 'boundary' });
  ctx.setErrorHandler((err) => faults.push(err));
});
afterEach(() => ctx.close());

/** Sends a well-formed oneshot after the bad input and checks that it runs, once. */
function expectStillServes(): void {
  const before = hits;
  AioContext.from(ctx.handle).scheduleOneshot('boundary.hit');
  flush(ctx);
  expect(hits).toBe(before + 1);
}

function codeOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  return { message: '(did not throw)' };
}

describe('handles are checked by from()', () => {
  it('the forging helper matches the wake table a context lives in', () => {
    const h = ctx.handle;
    expect(h.table.byteLength).toBe((L.headerWords + L.slots * L.slotWords) * 4 + L.slots * L.inboxBytes + 1024 * 4 + 64 * 1024);
    expect(Atomics.load(new Int32Array(h.table), word(h, L.inUse))).toBe(h.generation);
    forge(h, '[0,"boundary.hit",[],-1,0]');
    flush(ctx);
    expect(hits).toBe(1);
    expect(faults).toEqual([]);
  });

  it('AioContext.from() refuses a bad table, slot, generation or name, naming the field', () => {
    const h = ctx.handle;
    const cases: [Record<string, unknown>, string][] = [
      [{ table: new SharedArrayBuffer(64) }, '"table"'],
      [{ slot: -1 }, '"slot"'],
      [{ slot: 1.5 }, '"slot"'],
      [{ slot: Number.NaN }, '"slot"'],
      [{ slot: L.slots }, '"slot"'],
      [{ slot: '3' }, '"slot"'],
      [{ generation: 0 }, '"generation"'],
      [{ generation: 2 ** 31 }, '"generation"'],
      [{ generation: 0.5 }, '"generation"'],
      [{ name: 7 }, '"name"'],
    ];
    for (const [patch, field] of cases) {
      const err = codeOf(() => AioContext.from({ ...h, ...patch } as never));
      expect(err.code, JSON.stringify(patch)).toBe('ERR_AIO_BAD_HANDLE');
      expect(err.message).toContain(field);
    }
    // A well-formed handle of a closed context is not malformed: it is refused when used.
    expect(AioContext.from(h).alive).toBe(true);
  });

  it('BottomHalf.from() refuses a truncated buffer, a bad id, slot or generation', () => {
    const bh = ctx.bh(() => {});
    const h = bh.handle;
    const cases: [Record<string, unknown>, string][] = [
      [{ sab: new SharedArrayBuffer(4) }, '"sab"'],
      [{ table: new SharedArrayBuffer(4096) }, '"table"'],
      [{ id: 0 }, '"id"'],
      [{ id: -3 }, '"id"'],
      [{ id: 1.5 }, '"id"'],
      [{ id: Number.NaN }, '"id"'],
      [{ slot: -1 }, '"slot"'],
      [{ slot: L.slots + 5 }, '"slot"'],
      [{ generation: Number.NaN }, '"generation"'],
    ];
    for (const [patch, field] of cases) {
      const err = codeOf(() => BottomHalf.from({ ...h, ...patch } as never));
      expect(err.code, JSON.stringify(patch)).toBe('ERR_AIO_BAD_HANDLE');
      expect(err.message).toContain(field);
    }
    bh.delete();
  });

  it('EventNotifier.from() and CoMutex.from() refuse truncated buffers and foreign tables', () => {
    const e = new EventNotifier().handle;
    expect(codeOf(() => EventNotifier.from({ ...e, sab: new SharedArrayBuffer(4) })).code).toBe('ERR_AIO_BAD_HANDLE');
    expect(codeOf(() => EventNotifier.from({ ...e, table: new SharedArrayBuffer(8) })).message).toContain('"table"');
    const m = new CoMutex().handle;
    expect(codeOf(() => CoMutex.from({ ...m, sab: new SharedArrayBuffer(16) })).message).toContain('"sab"');
    expect(codeOf(() => CoMutex.from({ ...m, table: new SharedArrayBuffer(8) })).message).toContain('"table"');
  });

  it('the locks refuse a truncated buffer or an index outside it', () => {
    const locks = [new Mutex(), new RecMutex(), new Cond(), new Semaphore(1), new Event(), new LockCnt()];
    const classes = [Mutex, RecMutex, Cond, Semaphore, Event, LockCnt] as { from(h: unknown): unknown }[];
    locks.forEach((lock, i) => {
      const h = lock.handle;
      for (const patch of [{ sab: new SharedArrayBuffer(0) }, { index: h.sab.byteLength / 4 }, { index: -1 }, { index: 1.5 }, { index: Number.NaN }]) {
        const err = codeOf(() => classes[i]!.from({ ...h, ...patch }));
        expect(err.code, `${h.kind} ${JSON.stringify(patch)}`).toBe('ERR_AIO_BAD_HANDLE');
      }
    });
  });

  it('a huge name or kind is not echoed whole into the error', () => {
    const big = 'x'.repeat(1 << 20);
    expect(codeOf(() => AioContext.from({ ...ctx.handle, slot: big } as never)).message.length).toBeLessThan(1000);
    expect(codeOf(() => Mutex.from({ kind: big, sab: new SharedArrayBuffer(64), index: 0 } as never)).message.length).toBeLessThan(1000);
  });
});

describe('the remote bottom-half list', () => {
  it('a bogus id pushed onto a context does not wedge the real BHs behind it', () => {
    let runs = 0;
    const bh = ctx.bh(() => runs++);
    const real = BottomHalf.from(bh.handle);
    const forged = BottomHalf.from({ ...bh.handle, id: 4242, sab: new SharedArrayBuffer(8) });
    real.schedule();
    forged.schedule();
    flush(ctx);
    expect(runs).toBe(1);
    real.schedule(); // wedged for good if the first push was lost with PENDING still set
    flush(ctx);
    expect(runs).toBe(2);
    expect(faults.map((f) => f.code)).toEqual(['ERR_AIO_BAD_RECORD']);
    expect(faults[0]!.message).toContain('4242');
    expect(ctx.stats().faults).toBe(1);
    bh.delete();
  });

  it("a forged handle reusing a real BH's id does not lose the BHs pushed before it", () => {
    const ran: string[] = [];
    const a = ctx.bh(() => ran.push('a'));
    const b = ctx.bh(() => ran.push('b'));
    const bRemote = BottomHalf.from(b.handle);
    const forgedA = BottomHalf.from({ ...a.handle, sab: new SharedArrayBuffer(8) });
    bRemote.schedule();
    forgedA.schedule(); // pushes a's id, with a next pointer a's real block does not have
    flush(ctx);
    expect(ran).toContain('b');
    bRemote.schedule();
    flush(ctx);
    expect(ran.filter((x) => x === 'b').length).toBe(2);
    expect(ran).not.toContain('a'); // a itself was never scheduled
    expect(faults.length).toBe(1);
    a.delete();
    b.delete();
  });
});

describe('work forged onto a context whose slot was never handed out', () => {
  it('a blocking poll takes and reports it (a pass that may sleep always accepts its notify)', async () => {
    // Passes of poll(false) skip the notify word of a context no other thread knows
    // (poll.ts); a forger can still guess a slot. A blocking pass that finds the pushed
    // list must take it, or an attached loop would return at once forever.
    const lone = new AioContext({ name: 'never-shared' });
    const seen: AioError[] = [];
    lone.setErrorHandler((err) => seen.push(err));
    const inner = lone as unknown as { _slot: number; _table: { sab: SharedArrayBuffer; generation(slot: number): number } };
    const slot = inner._slot;
    const forged = BottomHalf.from({
      kind: 'aio.BottomHalf',
      name: 'forged',
      sab: new SharedArrayBuffer(8),
      id: 4242,
      table: inner._table.sab,
      slot,
      generation: inner._table.generation(slot),
    });
    forged.schedule();
    await blockingPoll(lone);
    expect(seen.map((f) => f.code)).toEqual(['ERR_AIO_BAD_RECORD']);
    expect(seen[0]!.message).toContain('4242');
    lone.close();
  });
});

describe('inbox records', () => {
  it('a record that is not JSON is dropped and reported once; the next one runs', () => {
    forge(ctx.handle, '{not json');
    flush(ctx);
    expect(faults.map((f) => f.code)).toEqual(['ERR_AIO_BAD_RECORD']);
    expect(faults[0]!.message).toContain("'boundary'");
    expectStillServes();
    expect(faults.length).toBe(1); // the read position moved past it: it is not read again
  });

  it('records of the wrong shape are dropped and reported, each one', () => {
    const bad = [
      '42',
      '"text"',
      '{}',
      '[]',
      '[9]',
      '[0]',
      '[0,5,[]]',
      '[0,"boundary.hit","args",-1,0]',
      '[0,"boundary.hit",[]]',
      '[0,"boundary.hit",[],5000,0]',
      '[1,1,"boundary.hit",[],99999,0]',
      '[1,1.5,"boundary.hit",[],0,0]',
      '[1,1,"boundary.hit","args",0,0]',
      '[1,1,"boundary.hit",[]]',
      '[2,1,0,null]',
      '[2,1,0,{"message":5}]',
      '[2,1,7]',
      '[2,"one",1,5]',
      '[3,5]',
      '[3,"port:7"]',
      '[3,"port",0]',
      '[3,"port",1.5]',
      '[3,"stop",1]',
      '[4,{"name":5}]',
    ];
    for (const text of bad) forge(ctx.handle, text);
    flush(ctx);
    expect(faults.length).toBe(bad.length);
    for (const f of faults) expect(f.code).toBe('ERR_AIO_BAD_RECORD');
    expect(hits).toBe(0);
    expectStillServes();
  });

  it('binary results of the wrong shape are dropped and reported; a well-formed one for no call is ignored', () => {
    // A binary RESULT (messages.ts): kind byte 1, ok, value kind, runNs flag, int32 id, float64 runNs, float64 number.
    const result = (ok: number, kind: number, flag: number, length: number): Uint8Array => {
      const b = new Uint8Array(length);
      const v = new DataView(b.buffer);
      if (length > 0) v.setUint8(0, 1);
      if (length > 3) {
        v.setUint8(1, ok);
        v.setUint8(2, kind);
        v.setUint8(3, flag);
      }
      if (length >= 8) v.setInt32(4, 987654, true);
      return b;
    };
    const bad = [
      result(1, 4, 1, 1), // too short
      result(1, 4, 1, 15),
      result(0, 4, 1, 24), // ok 0 (an error) has no binary form
      result(3, 4, 1, 24),
      result(1, 5, 1, 24), // no such value kind
      result(1, 0, 1, 16), // ok 1 with no value
      result(2, 4, 1, 24), // ok 2 (undefined) with a number
      result(1, 4, 2, 24), // runNs flag not 0 or 1
      result(1, 4, 1, 16), // a number without its 8 bytes
      result(1, 1, 1, 24), // null with 8 bytes too many
    ];
    for (const bytes of bad) forge(ctx.handle, bytes);
    forge(ctx.handle, result(1, 4, 1, 24));
    forge(ctx.handle, result(2, 0, 0, 16));
    flush(ctx);
    expect(faults.length).toBe(bad.length);
    for (const f of faults) expect(f.code).toBe('ERR_AIO_BAD_RECORD');
    expectStillServes();
    expect(faults.length).toBe(bad.length);
  });

  it('binary calls of the wrong shape are dropped and reported; a well-formed one runs', () => {
    // A binary CALL (binary-records.ts): kind byte 2, argc, name length, int32 id, int32
    // caller thread, uint16 reply slot, two zero bytes, the ASCII name, then each argument.
    const call = (name: string, args: number[][], argc = args.length, tail: number[] = [], reserved = 0): Uint8Array => {
      const body = [...[...name].map((c) => c.charCodeAt(0)), ...args.flat(), ...tail];
      const b = new Uint8Array(16 + body.length);
      const v = new DataView(b.buffer);
      v.setUint8(0, 2);
      v.setUint8(1, argc);
      v.setUint16(2, name.length, true);
      v.setInt32(4, 424242, true);
      v.setInt32(8, 1, true);
      v.setUint16(12, 0, true);
      v.setUint16(14, reserved, true);
      b.set(body, 16);
      return b;
    };
    const bad = [
      call('boundary.hit', [], 0).subarray(0, 12), // shorter than its header
      call('boundary.hit', [], 1), // one argument announced, none there
      call('boundary.hit', [[9]]), // no such value kind
      call('boundary.hit', [[4, 0, 0]]), // a number cut short
      call('boundary.hit', [[5, 5, 0, 65]]), // a string cut short
      call('boundary.hit', [[5, 1, 0, 200]]), // a string that is not ASCII
      call('boundary.hit', [], 0, [1]), // a byte after the arguments
      call('boundary.hit', [], 0, [], 1), // reserved bytes not 0
      call('boundary.h\u00e9t', []), // a name that is not ASCII
    ];
    for (const bytes of bad) forge(ctx.handle, bytes);
    forge(ctx.handle, call('boundary.hit', [[1], [4, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]]));
    flush(ctx);
    expect(faults.length).toBe(bad.length);
    for (const f of faults) expect(f.code).toBe('ERR_AIO_BAD_RECORD');
    expect(hits).toBe(1);
    expectStillServes();
  });

  it('hand-off records of the wrong shape are dropped and reported; one for no waiter is ignored', () => {
    const bad = ['[5]', '[5,1]', '[5,0,0]', '[5,-1,0]', '[5,1.5,0]', '[5,"1",0]', '[5,1,2]', '[5,1,true]', '[5,1,0,0]'];
    for (const text of bad) forge(ctx.handle, text);
    forge(ctx.handle, '[5,123456,1]');
    flush(ctx);
    expect(faults.length).toBe(bad.length);
    for (const f of faults) expect(f.code).toBe('ERR_AIO_BAD_RECORD');
    expectStillServes();
    expect(faults.length).toBe(bad.length);
  });

  it("a shared CoMutex is handed over by a record of its own: a forged call result with the waiter's id grants nothing", async () => {
    const main = AioContext.main();
    const m = new CoMutex();
    void m.handle; // shared: waiters queue in shared memory and are handed the mutex by record
    await m.lock();
    let granted = false;
    const waiting = Promise.resolve(m.lock()).then(() => {
      granted = true;
    });
    const id = Atomics.load(new Int32Array(main.handle.table), L.lastRecordId);
    forge(main.handle, `[2,${id},1,0]`);
    // Records run in arrival order: once the oneshot sent after it ran, the forged one did.
    const before = hits;
    AioContext.from(main.handle).scheduleOneshot('boundary.hit');
    await expect.poll(() => hits).toBe(before + 1);
    expect(granted).toBe(false);
    m.unlock();
    await waiting;
    expect(m.locked).toBe(true);
    m.unlock();
    expect(m.locked).toBe(false);
  });

  for (const [what, lengthWord] of [
    ['longer than the ring', 0x7ffffff0],
    ['negative', -5],
    ['past the write position', 4000],
  ] as const) {
    it(`a length word ${what} resets the ring and reports it, without spinning`, () => {
      forge(ctx.handle, 'xxxx', lengthWord);
      flush(ctx);
      expect(faults.length).toBe(1);
      expect(faults[0]!.message).toMatch(/corrupt/);
      expectStillServes();
      expect(faults.length).toBe(1);
    });
  }

  for (const [what, value] of [
    ['a slot past the table', 5000],
    ['a slot far outside the memory', 0x7fffffff],
    ['a negative slot', -7],
  ] as const) {
    it(`a request for room naming ${what} is dropped and reported, and wakes nobody`, () => {
      const h = ctx.handle;
      const words = new Int32Array(h.table);
      // What a wake of slot 4999 would write, were it obeyed: inside another context's ring.
      const stray = L.headerWords + 4999 * L.slotWords + 1;
      const before = Atomics.load(words, stray);
      Atomics.store(words, word(h, L.inboxWaitingWriter), value);
      forge(h, '[0,"boundary.hit",[],-1,0]');
      flush(ctx);
      expect(hits).toBe(1);
      expect(faults.length).toBe(1);
      expect(faults[0]!.code).toBe('ERR_AIO_BAD_RECORD');
      expect(faults[0]!.message).toMatch(/request for room/);
      expect(Atomics.load(words, stray)).toBe(before);
      expect(Atomics.load(words, word(h, L.inboxWaitingWriter))).toBe(0);
      expectStillServes();
      expect(faults.length).toBe(1);
    });
  }

  it('a write position too far ahead of the read position resets the ring', () => {
    const h = ctx.handle;
    const words = new Int32Array(h.table);
    Atomics.store(words, word(h, L.inboxWrite), Atomics.load(words, word(h, L.inboxRead)) + 10 * L.inboxBytes);
    Atomics.store(words, word(h, L.inboxPending), 1);
    // A context looks at its ring when notified, as every writer does after it writes.
    AioContext.from(h).notify();
    flush(ctx);
    expect(faults.length).toBe(1);
    expectStillServes();
  });

  it('without an error handler, the first fault of a context is logged and the rest counted', () => {
    ctx.setErrorHandler(null);
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      forge(ctx.handle, 'junk');
      forge(ctx.handle, '[77]');
      flush(ctx);
    } finally {
      console.error = original;
    }
    expect(logged.length).toBe(1);
    expect(String(logged[0]![0])).toContain('ERR_AIO_BAD_RECORD');
    expect(ctx.stats().faults).toBe(2);
    expectStillServes();
  });

  it('a context attached to the host loop keeps running after a bad record', async () => {
    ctx.attach();
    forge(ctx.handle, '\u0000\u0001garbage');
    await expect.poll(() => faults.length).toBe(1);
    const before = hits;
    AioContext.from(ctx.handle).scheduleOneshot('boundary.hit');
    await expect.poll(() => hits).toBe(before + 1);
    ctx.detach();
  });
});

describe("an IOThread's port", () => {
  const malformed: unknown[] = [
    null,
    42,
    'aio.record',
    { kind: 'aio.nope' },
    { kind: 'aio.record' },
    { kind: 'aio.record', record: 'junk' },
    { kind: 'aio.record', record: [1, 1, 'boundary.add', [], 99999, 0] },
    { kind: 'aio.crashed', error: null },
  ];

  it('the parent drops and reports malformed messages from the thread', async () => {
    await using t = await IOThread.create({ name: 'boundary-parent', module: moduleUrl });
    const main = AioContext.main();
    const seen: AioError[] = [];
    main.setErrorHandler((err) => seen.push(err));
    try {
      for (const m of malformed) expect(await t.call('boundary.toParent', m)).toBe('posted');
      await expect.poll(() => seen.length).toBe(malformed.length);
      for (const f of seen) expect(f.code).toBe('ERR_AIO_BAD_RECORD');
      expect(t.state).toBe('running');
      expect(await t.call('boundary.add', 40, 2)).toBe(42);
    } finally {
      main.setErrorHandler(null);
    }
  });

  it('the thread drops and reports malformed messages on its port', async () => {
    await using t = await IOThread.create({ name: 'boundary-thread', module: moduleUrl });
    for (const m of malformed) expect(await t.call('boundary.toSelf', m)).toBe('delivered');
    await expect.poll(async () => ((await t.call('boundary.faults')) as string[]).length).toBe(malformed.length);
    for (const f of (await t.call('boundary.faults')) as string[]) expect(f).toMatch(/^ERR_AIO_BAD_RECORD: /);
    expect(await t.call('boundary.add', 40, 2)).toBe(42);
    expect(t.state).toBe('running');
  });
});

// Only a window serves its workers' thread starts (web-worker-relay.ts): elsewhere no
// spawner port exists to forge requests on.
describe.runIf(runtime === 'browser')('thread start requests a worker sends its window', () => {
  it('a malformed request is dropped and reported', async () => {
    const main = AioContext.main();
    const seen: AioError[] = [];
    main.setErrorHandler((err) => seen.push(err));
    const before = main.stats().faults;
    const worker = startWorker(new URL('../workers/forged-spawn.mjs', import.meta.url));
    const reply = new Promise((resolve) => worker.addEventListener('message', (e: MessageEvent) => resolve(e.data)));
    worker.postMessage('go');
    expect(await reply).toBe('sent 3');
    await expect.poll(() => main.stats().faults - before, { timeout: 10_000 }).toBe(3);
    worker.terminate();
    await expect
      .poll(() => {
        main.poll(false);
        return seen.length;
      })
      .toBe(3);
    for (const err of seen) expect(err.code).toBe('ERR_AIO_BAD_RECORD');
    expect(seen.map((e) => e.message).join('\n')).toMatch(/not a URL/);
    main.setErrorHandler(null);
  });
});

describe('statistics in shared memory', () => {
  it("a thread's times left mid-write (its writer ended there) do not hang stats()", async () => {
    await using t = await IOThread.create({ name: 'boundary-stats', module: moduleUrl });
    expect(await t.call('boundary.add', 1, 2)).toBe(3);
    // One more step of the sequence word leaves it odd whenever the thread is not writing:
    // what a reader sees after a writer ended between its two steps.
    Atomics.add(new Int32Array(t.context.handle.table), word(t.context.handle, L.timesSeq), 1);
    const s = t.stats();
    expect(typeof s.utilization).toBe('number');
    expect(await t.call('boundary.add', 2, 2)).toBe(4);
  });
});

describe('error texts are bounded', () => {
  const big = 'f'.repeat(1 << 20);

  it('a 1 MB function name is not echoed whole', async () => {
    await using t = await IOThread.create({ name: 'boundary-names', module: moduleUrl });
    const viaPort = await t.call(big).catch((e: Error) => e);
    expect((viaPort as { code?: string }).code).toBe('ERR_AIO_NO_FUNCTION');
    expect((viaPort as Error).message.length).toBeLessThan(1000);
    const viaMemory = await AioContext.from(t.context.handle).call(big).catch((e: Error) => e);
    expect((viaMemory as { code?: string }).code).toBe('ERR_AIO_NOT_SERIALIZABLE');
    expect((viaMemory as Error).message.length).toBeLessThan(1000);
    expect((viaMemory as Error).message).toContain('characters');
  });

  it('a 1 MB error message comes back cut, with its stack', async () => {
    await using t = await IOThread.create({ name: 'boundary-messages', module: moduleUrl });
    const err = (await t.call('boundary.throwBig', 1 << 20).catch((e: Error) => e)) as Error & { remoteStack?: string };
    expect(err.message.length).toBeLessThan(2000);
    expect(err.message.startsWith('mmmm')).toBe(true);
    expect(err.stack!.length).toBeLessThan(8000);
  });
});

describe('values through call()', () => {
  it('-0 comes back as -0; an undefined property is left out, as JSON does', async () => {
    await using t = await IOThread.create({ name: 'boundary-values', module: moduleUrl });
    expect(Object.is(await t.call('boundary.echo', -0), -0)).toBe(true);
    const nested = (await t.call('boundary.echo', { x: [-0, 0] })) as { x: number[] };
    expect(Object.is(nested.x[0], -0)).toBe(true);
    expect(Object.is(nested.x[1], 0)).toBe(true);
    const obj = (await t.call('boundary.echo', { a: undefined, b: 1 })) as Record<string, unknown>;
    expect(obj).toEqual({ b: 1 });
    expect('a' in obj).toBe(false);
    // Shared memory alone (no port): a bare -0 argument and result take the binary form and
    // arrive exactly; -0 inside an object needs JSON, which cannot carry it: refused loudly.
    const plain = AioContext.from(t.context.handle);
    expect(Object.is(await plain.call('boundary.echo', -0), -0)).toBe(true);
    expect(((await plain.call('boundary.echo', { x: -0 }).catch((e: Error) => e)) as { code?: string }).code).toBe('ERR_AIO_NOT_SERIALIZABLE');
    expect(await plain.call('boundary.echo', 0)).toBe(0);
  });
});

describe('permissions', () => {
  it('importing the package and running a context needs no permission (Deno: none granted)', async () => {
    if (runtime === 'browser') {
      // No permissions to speak of: the same work, in the page.
      const c = new AioContext({ name: 'no-permissions' });
      let runs = 0;
      const bh = c.bh(() => runs++);
      bh.schedule();
      flush(c);
      bh.delete();
      flush(c);
      c.close();
      expect(runs).toBe(1);
      return;
    }
    const script = new URL(`../workers/boundary-import-${runtime}.mjs`, import.meta.url);
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const proc = globalThis as { process?: { execPath: string; cwd(): string; env: Record<string, string> } };
    const exec = proc.process!.execPath;
    // Deno's node:child_process hands the parent's permissions to a deno child, so the
    // child denies every one explicitly (deny wins over allow).
    const deny = ['env', 'read', 'write', 'net', 'run', 'ffi', 'sys'].map((p) => `--deny-${p}`);
    const args = runtime === 'deno' ? ['run', '--no-prompt', ...deny, '--node-modules-dir=manual', fileURLToPath(script)] : [fileURLToPath(script)];
    const r = spawnSync(exec, args, { encoding: 'utf8', timeout: 30_000, cwd: proc.process!.cwd(), env: { ...proc.process!.env, AIO_DEBUG: '1' } });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok 1');
    expect(r.status).toBe(0);
  });
});
