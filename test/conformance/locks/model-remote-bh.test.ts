/**
 * Model checking of the remote BH list (bh.ts): threads schedule shared bottom halves of a
 * context by pushing them onto the lock-free list in its slot, and the home thread's BH
 * phase takes the list and runs them. QEMU's aio_bh_schedule semantics are checked with
 * a mark per schedule call, or-ed into the BH's flags with SCHEDULED (bits the real flags
 * never use) and cleared by the dequeue that covers it: every schedule is covered by
 * exactly one run that dequeued the BH after it (so scheduling a BH already scheduled
 * adds no run, and a schedule after a run started runs the BH again), and no run happens
 * without a schedule. The context's own wake-up (notify.ts, checked on its own) is stood
 * in for by a futex on the list head. Broken variants the checker must catch: a home
 * thread that empties the list with a store instead of an exchange, and a scheduler that
 * publishes the BH before linking it.
 */
import { describe, expect, it } from 'vitest';
import {
  BH_DELETED,
  BH_PENDING,
  BH_SCHEDULED,
  BhWord,
  bhDequeue,
  remoteBhNext,
  remoteBhSchedule,
  remoteBhTake,
} from '../../../packages/aio-core/src/loop/bh.js';
import type { FutexOps } from '../../../packages/aio-core/src/locks/futex.js';
import { type CheckOptions, type Model, type SimThread, checkpoint } from './model-checker.js';
import { expectCaught, expectClean } from './model-expect.js';

/** Words: 0 the list head (in the context's slot), 1 runs of BH 1; BH `id`'s block at 2 * id. */
const HEAD = 0;
const RUNS = 1;
const block = (id: number): number => 2 * id;
const WORDS = block(3);
/** Mark of schedule call `n` (of all threads). */
const mark = (n: number): number => 1 << (8 + n);
const MARKS = ~0xff;

/** One schedule call: which BH, with which mark; `afterRun`: only once BH 1 ran. */
interface Call {
  readonly bh: number;
  readonly n: number;
  readonly afterRun?: boolean;
}

type Schedule = (f: FutexOps, id: number, bits: number) => void;
type Take = (f: FutexOps) => number;

const schedule: Schedule = (f, id, bits) => void remoteBhSchedule(f, block(id), f, HEAD, id, bits);
const take: Take = (f) => remoteBhTake(f, HEAD);

function scheduler(calls: readonly Call[], scheduleOne: Schedule = schedule): SimThread['run'] {
  return (f) => {
    for (let k = 0; k < calls.length; k++) {
      const c = calls[k]!;
      checkpoint(f, `call ${k}`);
      if (c.afterRun) while (f.load(RUNS) === 0) f.wait(RUNS, 0, false);
      scheduleOne(f, c.bh, BH_SCHEDULED | mark(c.n));
      f.notify(HEAD, 1);
    }
    return calls.length;
  };
}

/** BH phases until every mark in `want` (per BH id) was covered; returns the runs, as "id:marks". */
function home(want: ReadonlyMap<number, number>, takeList: Take = take): SimThread['run'] {
  return (f) => {
    const covered = new Map<number, number>();
    const runs: string[] = [];
    const done = () => [...want].every(([id, marks]) => ((covered.get(id) ?? 0) & marks) === marks);
    for (;;) {
      checkpoint(f, `phase ${runs.join(' ')}`);
      const slice: number[] = [];
      for (let id = takeList(f); id !== 0; id = remoteBhNext(f, block(id))) slice.push(id);
      for (const id of slice) {
        const flags = bhDequeue(f, block(id));
        if ((flags & (BH_SCHEDULED | BH_DELETED)) !== BH_SCHEDULED) continue;
        const marks = flags & MARKS;
        if (marks === 0) throw new Error(`BH ${id} ran without a schedule`);
        if ((covered.get(id) ?? 0) & marks) throw new Error(`BH ${id} ran twice for one schedule`);
        covered.set(id, (covered.get(id) ?? 0) | marks);
        runs.push(`${id}:${(marks >>> 8).toString(2)}`);
        if (id === 1) {
          f.add(RUNS, 1);
          f.notify(RUNS, Infinity);
        }
      }
      if (done()) return runs;
      checkpoint(f, `sleep ${runs.join(' ')}`);
      f.wait(HEAD, 0, false);
    }
  };
}

function bhModel(schedulers: readonly (readonly Call[])[], parts: { schedule?: Schedule; take?: Take } = {}): Model {
  const want = new Map<number, number>();
  for (const calls of schedulers) for (const c of calls) want.set(c.bh, (want.get(c.bh) ?? 0) | mark(c.n));
  return {
    words: WORDS,
    threads: [
      ...schedulers.map((calls, t) => ({ name: `S${t + 1}`, run: scheduler(calls, parts.schedule) })),
      { name: 'home', run: home(want, parts.take) },
    ],
    // The home thread asleep while a schedule was never covered by a run: a lost BH.
    canProceed: (m) => [1, 2].some((id) => (m[block(id)]! & MARKS) !== 0),
    final: (m) => {
      for (const id of [1, 2]) {
        if (m[block(id)]! & (BH_PENDING | BH_SCHEDULED | MARKS)) return `BH ${id} left with flags ${m[block(id)]!.toString(2)}`;
      }
      return m[HEAD] !== 0 ? `list left with ${m[HEAD]} on it` : undefined;
    },
  };
}

const OPTIONS: CheckOptions = { maxSteps: 80 };



/** Two threads push two BHs, one of them from both. */
const TWO_BHS = [[{ bh: 1, n: 0 }, { bh: 2, n: 1 }], [{ bh: 2, n: 2 }]] as const;

describe('/aio/bh/remote/model', () => {
  it('two schedulers, two BHs, one of them scheduled by both', () => {
    const r = expectClean('remote bh 2 schedulers', bhModel(TWO_BHS), OPTIONS);
    expect(r.truncated).toBe(0);
  });

  it('a schedule made after the BH ran runs it again; one made while it is pending does not', () => {
    expectClean('remote bh again after run', bhModel([[{ bh: 1, n: 0 }, { bh: 2, n: 1 }], [{ bh: 1, n: 2 }, { bh: 1, n: 3, afterRun: true }]]), OPTIONS);
  });

  it('catches a home thread that empties the list with a store instead of an exchange', () => {
    const storeTake: Take = (f) => {
      const id = f.load(HEAD);
      if (id !== 0) f.store(HEAD, 0); // a push between the load and this store is lost
      return id;
    };
    expectCaught('broken remote bh: store instead of exchange', bhModel(TWO_BHS, { take: storeTake }), ['lost-wakeup', 'deadlock', 'final', 'exception'], OPTIONS);
  });

  it('catches a scheduler that publishes the BH before linking it', () => {
    const publishFirst: Schedule = (f, id, bits) => {
      const old = f.or(block(id), BH_PENDING | bits);
      if (old & BH_PENDING) return;
      for (;;) {
        const first = f.load(HEAD);
        if (f.compareExchange(HEAD, first, id) === first) {
          f.store(block(id) + BhWord.Next, first); // too late: the home thread may have read NEXT
          return;
        }
      }
    };
    expectCaught('broken remote bh: published before linked', bhModel(TWO_BHS, { schedule: publishFirst }), ['lost-wakeup', 'deadlock', 'final', 'exception'], OPTIONS);
  });
});
