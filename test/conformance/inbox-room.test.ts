// The request for room (threads/inbox.ts askForRoom): a writer whose records wait in its
// outbox asks the reader of a full inbox to wake it, and the reader's next drain does, once.
import { describe, expect, it } from 'vitest';
import { Slot, wakeTable } from '../../packages/aio-core/src/base/shared-memory.js';
import { askForRoom, drain } from '../../packages/aio-core/src/threads/inbox.js';

describe('inbox: the writer waiting for room', () => {
  it('is notified by the next drain, once; a drain nobody asked of notifies nobody', () => {
    const table = wakeTable();
    const reader = 5;
    const writer = 9;
    const notified = () => Atomics.load(table.words, table.base(writer) + Slot.Notified);
    const bad: string[] = [];
    drain(table, reader, [], (p) => bad.push(p));
    expect(notified()).toBe(0);
    askForRoom(table, reader, writer);
    expect(Atomics.load(table.words, table.base(reader) + Slot.InboxWaitingWriter)).toBe(writer + 1);
    drain(table, reader, [], (p) => bad.push(p));
    expect(notified()).toBe(1);
    expect(Atomics.load(table.words, table.base(reader) + Slot.InboxWaitingWriter)).toBe(0);
    Atomics.store(table.words, table.base(writer) + Slot.Notified, 0);
    drain(table, reader, [], (p) => bad.push(p));
    expect(notified()).toBe(0);
    // The last writer to ask is the one woken; slot 0 is a writer too (the word holds slot + 1).
    askForRoom(table, reader, writer);
    askForRoom(table, reader, 0);
    drain(table, reader, [], (p) => bad.push(p));
    expect(Atomics.load(table.words, table.base(0) + Slot.Notified)).toBe(1);
    expect(notified()).toBe(0);
    expect(bad).toEqual([]);
  });
});
