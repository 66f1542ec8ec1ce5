// PendingCalls (threads/pending-calls.ts), the table of the replies a thread awaits: every
// call added is found by its id and taken once, whether it sits in its slot or in the
// overflow (ids that share a slot), through growth, against a Map as the model.
import { describe, expect, it } from 'vitest';
import { PendingCalls } from '../../packages/aio-core/src/threads/pending-calls.js';

interface Call {
  readonly id: number;
}

function sameAsModel(table: PendingCalls<Call>, model: Map<number, Call>, probe: number[]): void {
  expect(table.size).toBe(model.size);
  for (const id of probe) expect(table.get(id)).toBe(model.get(id));
  expect(new Set(table.values())).toEqual(new Set(model.values()));
}

describe('PendingCalls', () => {
  it('finds consecutive ids, taken in any order, through growth', () => {
    const table = new PendingCalls<Call>();
    const model = new Map<number, Call>();
    for (let id = 1; id <= 5000; id++) {
      const call = { id };
      table.add(call);
      model.set(id, call);
    }
    sameAsModel(table, model, [0, 1, 2, 1024, 1025, 4999, 5000, 5001, 6024]);
    for (let id = 5000; id >= 1; id -= 3) {
      expect(table.take(id)).toBe(model.get(id));
      model.delete(id);
      expect(table.take(id)).toBeUndefined();
    }
    sameAsModel(table, model, [1, 2, 3, 4, 4997, 4998, 4999, 5000]);
  });

  it('keeps ids that share a slot apart (the overflow), and ids far apart', () => {
    const table = new PendingCalls<Call>();
    const model = new Map<number, Call>();
    // Same low bits at every capacity up to 2^20; then ids near the int32 limit.
    const ids = [7, 7 + 2 ** 20, 7 + 2 * 2 ** 20, 7 + 3 * 2 ** 20, 2 ** 31 - 1, 2 ** 31 - 1 - 2 ** 20, 8, 9];
    for (const id of ids) {
      const call = { id };
      table.add(call);
      model.set(id, call);
    }
    sameAsModel(table, model, [...ids, 6, 10, 7 + 4 * 2 ** 20]);
    // Taking the one in the slot leaves the others found; a new id may take the free slot.
    expect(table.take(7)).toBe(model.get(7));
    model.delete(7);
    sameAsModel(table, model, ids);
    const late = { id: 7 + 5 * 2 ** 20 };
    table.add(late);
    model.set(late.id, late);
    sameAsModel(table, model, [...ids, late.id]);
    for (const id of [...model.keys()]) {
      expect(table.take(id)).toBe(model.get(id));
      model.delete(id);
    }
    sameAsModel(table, model, ids);
  });

  it('matches a Map through a random mix of adds, gets and takes', () => {
    const table = new PendingCalls<Call>();
    const model = new Map<number, Call>();
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let next = 1;
    for (let step = 0; step < 50_000; step++) {
      const r = rand(10);
      if (r < 5) {
        // Mostly consecutive ids, sometimes a jump (another thread took ids between).
        next += rand(20) === 0 ? 1 + rand(3000) : 1;
        const call = { id: next };
        table.add(call);
        model.set(next, call);
      } else {
        const id = next - rand(4000);
        expect(table.get(id)).toBe(model.get(id));
        if (r < 9) {
          expect(table.take(id)).toBe(model.get(id));
          model.delete(id);
        }
      }
    }
    sameAsModel(table, model, [next, next - 1, next + 1]);
  });
});
