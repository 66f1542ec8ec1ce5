/**
 * Context slots of threads recorded as ended: a worker that its parent gave up on may run
 * a moment longer where the runtime ends workers late (Deno), after its parent gave back
 * its slots. A claim by such a thread must fail and leave no slot taken, and a claim made
 * just before the burial is given back by it. (The wake table's own code, run on this
 * thread's table.)
 */
import { describe, expect, it } from 'vitest';
import { SLOTS, wakeTable } from '../../../packages/aio-core/src/base/shared-memory.js';

const table = wakeTable();
const liveSlots = (): number => {
  let n = 0;
  for (let slot = 0; slot < SLOTS; slot++) if (table.generation(slot) !== 0) n++;
  return n;
};

describe('context slots of ended threads', () => {
  it('a thread recorded as ended can claim no slot, and none stays taken', () => {
    const dead = 0x5a10_0001;
    table.markThreadDead(dead);
    const before = liveSlots();
    expect(() => table.claim(dead)).toThrow(expect.objectContaining({ code: 'ERR_AIO_THREAD_DIED' }));
    expect(liveSlots()).toBe(before);
  });

  it("a slot claimed before its thread's burial is given back by the burial", () => {
    const ending = 0x5a10_0002;
    const before = liveSlots();
    const [slot, generation] = table.claim(ending);
    expect(table.generation(slot)).toBe(generation);
    table.markThreadDead(ending);
    expect(table.reclaimSlotsOf(ending, 'it ended')).toBe(1);
    expect(liveSlots()).toBe(before);
    expect(table.epitaph(slot, generation)).toBe('it ended');
  });
});
