/**
 * Model checking of a context's wake protocol (notify.ts, run by poll.ts): every
 * interleaving of a poller (the context's home thread running blocking polls) and 1-2
 * notifiers (threads that publish work, then notify). What must hold: the poller never
 * sleeps while published work waits (no lost wake-up), takes every item once, and leaves
 * NotifyMe at 0. Deliberately broken variants of either side must be caught.
 */
import { describe, expect, it } from 'vitest';
import type { FutexOps } from '../../../packages/aio-core/src/locks/futex.js';
import { acceptNotify, announceSleep, clearWake, notifyWake, withdrawSleep } from '../../../packages/aio-core/src/loop/notify.js';
import { Slot } from '../../../packages/aio-core/src/base/shared-memory.js';
import { type Model, check, checkpoint, summary } from './model-checker.js';
import { expectCaught, expectClean } from './model-expect.js';

/**
 * The slot is at word 0; the work counter (items published, not yet taken) follows it,
 * then a count of notifiers that finished (instrumentation, not part of the protocol).
 */
const B = 0;
const WORK = Slot.Size;
const DONE = Slot.Size + 1;

type Notify = (f: FutexOps, b: number) => void;

/** The poller's side of one pass, as poll.ts runs it; each step can be replaced by a broken one. */
interface PollerSteps {
  /** Announces the sleep; returns whether a notify is pending. */
  announce(f: FutexOps, b: number): boolean;
  withdraw(f: FutexOps, b: number): void;
  /** Accept the notify and take the work, in the order the dispatch does. */
  acceptThenTake(f: FutexOps, b: number): number;
}

const realPoller: PollerSteps = {
  announce: announceSleep,
  withdraw: withdrawSleep,
  acceptThenTake: (f, b) => {
    acceptNotify(f, b);
    return f.exchange(WORK, 0);
  },
};

/**
 * The poller as poll.ts runs it: it looks at work only other threads add (the inbox ring,
 * the remote BH list) only in a pass that accepted a notify.
 */
const gatedPoller: PollerSteps = {
  ...realPoller,
  acceptThenTake: (f, b) => (acceptNotify(f, b) ? f.exchange(WORK, 0) : 0),
};

/**
 * Blocking polls until `total` items were taken. One pass: the timeout is 0 when work is
 * visible (aio_compute_timeout), the sleep is announced, then skipped on a pending notify
 * or a ready own notifier (the wake word); after the sleep the pass withdraws, accepts,
 * takes the work (BH phase) and runs its own notifier's handler if the wake word was set.
 */
function poller(total: number, notifiers: number, steps: PollerSteps) {
  return (f: FutexOps): number => {
    let taken = 0;
    while (taken < total) {
      checkpoint(f, `taken ${taken}`);
      // Every notifier finished before this pass: it must take all that is left, since
      // the last notify came after the last publish (no work is left behind for good).
      const allDone = f.load(DONE) === notifiers;
      let sleepy = f.load(WORK) === 0;
      const announced = sleepy;
      if (announced && steps.announce(f, B)) sleepy = false;
      if (sleepy && f.load(B + Slot.Wake) !== 0) sleepy = false;
      if (sleepy) f.wait(B + Slot.Wake, 0, false);
      const ownReady = f.load(B + Slot.Wake) !== 0;
      if (announced) steps.withdraw(f, B);
      taken += steps.acceptThenTake(f, B);
      if (allDone && taken < total) throw new Error(`a pass after every notify left ${total - taken} items behind`);
      if (ownReady) clearWake(f, B);
    }
    return taken;
  };
}

/** Publishes `rounds` items, notifying after each. */
function notifier(rounds: number, notify: Notify) {
  return (f: FutexOps): void => {
    for (let k = 0; k < rounds; k++) {
      checkpoint(f, `round ${k}`);
      f.add(WORK, 1);
      notify(f, B);
    }
    f.add(DONE, 1);
  };
}

function wakeModel(rounds: readonly number[], steps: PollerSteps = realPoller, notify: Notify = notifyWake): Model {
  const total = rounds.reduce((a, b) => a + b, 0);
  return {
    words: Slot.Size + 2,
    threads: [
      { name: 'poller', run: poller(total, rounds.length, steps) },
      ...rounds.map((n, i) => ({ name: `N${i + 1}`, run: notifier(n, notify) })),
    ],
    // The poller asleep while work waits can only be a lost wake-up.
    canProceed: (m) => m[WORK]! > 0,
    final: (m, results) =>
      m[B + Slot.NotifyMe] !== 0
        ? `NotifyMe left at ${m[B + Slot.NotifyMe]}`
        : results[0] !== total
          ? `the poller took ${String(results[0])} of ${total} items`
          : undefined,
  };
}



describe('/aio/model/wake', () => {
  it('a poller and one notifier, 3 items', () => {
    expect(expectClean('wake 1x3', wakeModel([3])).truncated).toBe(0);
  });

  it('a poller and two notifiers, 2 and 1 items', () => {
    expect(expectClean('wake 2+1', wakeModel([2, 1])).truncated).toBe(0);
  });

  it('a poller and two notifiers with spurious wake-ups', () => {
    const model = { ...wakeModel([1, 1]), spuriousWakeups: true };
    const r = check(model, { maxSteps: 60 });
    console.log(summary('wake 2x1 spurious', r));
    expect(r.violation, summary('wake 2x1 spurious', r)).toBeUndefined();
  });

  it('a poller that looks for remote work only after accepting a notify, and two notifiers', () => {
    // A pass that sees work before its notify arrives finds nothing and polls again, so
    // some schedules spin until the step bound; every schedule the bound lets finish is
    // clean, and none leaves work behind after the last notify.
    expect(expectClean('wake gated 2+1', wakeModel([2, 1], gatedPoller)).schedules).toBeGreaterThan(0);
  });

  it('catches a notifier that notifies before it publishes, against the gated poller', () => {
    const publishAfter = (rounds: number) => (f: FutexOps): void => {
      for (let k = 0; k < rounds; k++) {
        checkpoint(f, `round ${k}`);
        notifyWake(f, B);
        f.add(WORK, 1);
      }
      f.add(DONE, 1);
    };
    const model = wakeModel([2], gatedPoller);
    const broken = { ...model, threads: [model.threads[0]!, { name: 'N1', run: publishAfter(2) }] };
    expectCaught('broken wake: notify before publish (gated poller)', broken, ['exception', 'lost-wakeup']);
  });

  it('catches a poller that reads Notified before it announces the sleep', () => {
    const early: PollerSteps = {
      ...realPoller,
      announce: (f, b) => {
        const notified = f.load(b + Slot.Notified) !== 0;
        f.add(b + Slot.NotifyMe, 2);
        return notified;
      },
    };
    expectCaught('broken wake: Notified read before the announce', wakeModel([2], early), ['lost-wakeup']);
  });

  it('catches a poller that sleeps without announcing (skips NotifyMe)', () => {
    const silent: PollerSteps = {
      announce: (f, b) => f.load(b + Slot.Notified) !== 0,
      withdraw: () => {},
      acceptThenTake: realPoller.acceptThenTake,
    };
    expectCaught('broken wake: no announce', wakeModel([1], silent), ['lost-wakeup']);
  });

  it('catches a poller that resets the wake word between its announce and its sleep', () => {
    const reset: PollerSteps = {
      ...realPoller,
      announce: (f, b) => {
        const notified = announceSleep(f, b);
        clearWake(f, b);
        return notified;
      },
    };
    expectCaught('broken wake: wake word reset before the sleep', wakeModel([1], reset), ['lost-wakeup']);
  });

  it('catches a notifier that reads NotifyMe before it stores Notified', () => {
    const early: Notify = (f, b) => {
      const sleeping = f.load(b + Slot.NotifyMe) !== 0;
      f.store(b + Slot.Notified, 1);
      if (sleeping && f.exchange(b + Slot.Wake, 1) === 0) f.notify(b + Slot.Wake, Infinity);
    };
    expectCaught('broken wake: NotifyMe read before Notified', wakeModel([1], realPoller, early), ['lost-wakeup']);
  });

  it('catches a notifier that sets the wake word without the futex wake', () => {
    const mute: Notify = (f, b) => {
      f.store(b + Slot.Notified, 1);
      if (f.load(b + Slot.NotifyMe) !== 0) f.exchange(b + Slot.Wake, 1);
    };
    expectCaught('broken wake: no futex wake', wakeModel([1], realPoller, mute), ['lost-wakeup']);
  });
});
