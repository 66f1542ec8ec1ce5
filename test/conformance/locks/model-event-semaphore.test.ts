/**
 * Model checking of the Event (event.ts, QemuEvent's SET/FREE/BUSY word) and Semaphore
 * (semaphore.ts) algorithms: every interleaving of 3 simulated threads, checking that no
 * waiter sleeps through a set/post, plus broken variants the checker must catch.
 */
import { describe, expect, it } from 'vitest';
import { eventReset, eventSet, eventWait } from '../../../packages/aio-core/src/locks/event.js';
import type { FutexOps } from '../../../packages/aio-core/src/locks/futex.js';
import { semPost, semWait } from '../../../packages/aio-core/src/locks/semaphore.js';
import { type Model, check, checkpoint, summary } from './model-checker.js';
import { expectClean } from './model-expect.js';


describe('/locking/model/event', () => {
  // Words: 0 the event (SET 0, FREE 1, BUSY -1), 1 a flag the producer raises.
  const EV = 0;
  const FLAG = 1;
  const SET = 0;
  const FREE = 1;
  /** Waits for the event until the flag is seen, as QEMU's users do: reset; check; wait. */
  const consumer = (f: FutexOps): boolean => {
    for (let round = 0; ; round++) {
      checkpoint(f, `round ${Math.min(round, 1)}`);
      eventReset(f, EV);
      if (f.load(FLAG) === 1) return true;
      if (!eventWait(f, EV, true)) return false;
    }
  };
  const producer = (f: FutexOps): void => {
    f.store(FLAG, 1);
    eventSet(f, EV);
  };

  it('set wakes every waiter, including one that may abort', () => {
    expectClean('event set / wait / wait(abort)', {
      words: 1,
      init: [FREE],
      threads: [
        { name: 'S', run: (f) => eventSet(f, EV) },
        { name: 'W1', run: (f) => eventWait(f, EV, true) },
        { name: 'W2', run: (f) => eventWait(f, EV, true), giveUp: 'abort' },
      ],
      canProceed: (m) => m[EV] === SET,
    });
  });

  it('reset; check; wait never misses the producer', () => {
    expectClean('event reset-check-wait / wait(timeout) / producer', {
      words: 2,
      init: [FREE, 0],
      threads: [
        { name: 'P', run: producer },
        { name: 'C', run: consumer },
        { name: 'W', run: (f) => eventWait(f, EV, true), giveUp: 'timeout' },
      ],
      // W may sleep on for good once C reset the event; C itself never gives up, so if C
      // slept through the producer the checker would report a deadlock.
      canProceed: (m) => m[EV] === SET,
      final: (_m, r) => (r[1] !== true ? 'the consumer did not see the flag' : undefined),
    });
  });

  it('finds the misuse of two consumers that both reset (one can undo the set the other needed)', () => {
    const r = check({
      words: 2,
      init: [FREE, 0],
      threads: [
        { name: 'P', run: producer },
        { name: 'C1', run: consumer },
        { name: 'C2', run: consumer },
      ],
      canProceed: (m) => m[EV] === SET || m[FLAG] === 1,
    });
    console.log(summary('event, two resetting consumers', r));
    expect(r.violation?.kind).toBe('lost-wakeup');
  });

  it('set, reset and set again against two waiters, with spurious wake-ups (bounded)', () => {
    expectClean(
      'event set-reset-set / wait x2, spurious',
      {
        words: 1,
        init: [FREE],
        threads: [
          {
            name: 'S',
            run: (f) => {
              eventSet(f, EV);
              checkpoint(f, 'reset');
              eventReset(f, EV);
              checkpoint(f, 'set');
              eventSet(f, EV);
            },
          },
          { name: 'W1', run: (f) => eventWait(f, EV, true) },
          { name: 'W2', run: (f) => eventWait(f, EV, true) },
        ],
        canProceed: (m) => m[EV] === SET,
        spuriousWakeups: true,
      },
      { maxSteps: 22 },
    );
  });

  it('catches a waiter that sleeps without announcing itself (FREE -> BUSY skipped)', () => {
    const brokenWait = (f: FutexOps): boolean => {
      for (;;) {
        const v = f.load(EV);
        if (v === SET) return true;
        f.wait(EV, v, false); // sleeps on FREE: set() sees no BUSY and does not wake
      }
    };
    const r = check({
      words: 2,
      init: [FREE, 0],
      threads: [
        { name: 'P', run: producer },
        { name: 'W', run: brokenWait },
      ],
      canProceed: (m) => m[EV] === SET,
    });
    console.log(summary('broken event', r));
    expect(r.violation?.kind).toBe('lost-wakeup');
  });
});

describe('/locking/model/semaphore', () => {
  // Words: 0 count, 1 waiters.
  const COUNT = 0;
  const WAITERS = 1;
  /** Takes a unit and gives it back, so every waiter that does not give up gets one. */
  const borrower = (f: FutexOps): boolean => {
    if (!semWait(f, 0, true)) return false;
    checkpoint(f, 'took');
    semPost(f, 0);
    return true;
  };
  const model = (giveUp: ('never' | 'abort' | 'timeout')[], take = borrower, init = 0): Model => ({
    words: 2,
    init: [init, 0],
    threads: [
      { name: 'P', run: (f) => semPost(f, 0) },
      { name: 'W1', run: take, giveUp: giveUp[0] },
      { name: 'W2', run: take, giveUp: giveUp[1] },
    ],
    canProceed: (m) => m[COUNT]! > 0,
    final: (m) => (m[COUNT] !== init + 1 || m[WAITERS] !== 0 ? `final count ${m[COUNT]}, waiters ${m[WAITERS]}` : undefined),
  });

  it('one post, two borrowers', () => {
    expectClean('semaphore post / borrow x2', model(['never', 'never']));
  });

  it('one post, two borrowers, one of which may abort after being woken', () => {
    expectClean('semaphore post / borrow(abort) / borrow', model(['abort', 'never']));
  });

  it('one post, two timed borrowers', () => {
    expectClean('semaphore post / borrow(timeout) x2', model(['timeout', 'timeout']));
  });

  it('catches a post that never wakes a sleeper', () => {
    const r = check({
      ...model(['never', 'never']),
      threads: [
        { name: 'P', run: (f) => void f.add(COUNT, 1) }, // no notify
        { name: 'W1', run: borrower },
        { name: 'W2', run: borrower },
      ],
    });
    console.log(summary('broken semaphore post', r));
    expect(r.violation?.kind).toBe('lost-wakeup');
  });

  it('catches an aborting waiter that does not pass on the wake-up it consumed', () => {
    const noPassOn = (f: FutexOps): boolean => {
      for (;;) {
        const c = f.load(COUNT);
        if (c > 0) {
          if (f.compareExchange(COUNT, c, c - 1) === c) break;
          continue;
        }
        f.add(WAITERS, 1);
        const r = f.wait(COUNT, 0, true);
        f.sub(WAITERS, 1);
        if (r === 'timed-out') return false; // gives up without passing on
      }
      checkpoint(f, 'took');
      semPost(f, 0);
      return true;
    };
    const r = check({
      ...model(['abort', 'never']),
      threads: [
        { name: 'P', run: (f) => semPost(f, 0) },
        { name: 'W1', run: noPassOn, giveUp: 'abort' },
        { name: 'W2', run: borrower },
      ],
    });
    console.log(summary('broken semaphore wait', r));
    expect(r.violation?.kind).toBe('lost-wakeup');
  });
});
