/**
 * Model checking of the shared CoMutex ring (coroutine/co-mutex-ring.ts): lockers in 2-3
 * threads take the mutex or queue under the ring's short lock, and unlock hands it to the
 * oldest queued waiter. The hand-off reaches a waiter through its context's inbox in
 * shared-co-mutex.ts; here it is stood in for by a grant word per thread and a futex on
 * it. Checks: mutual exclusion; the mutex is never free while a waiter is queued (no
 * barging, no lost hand-off when an unlock races a new waiter); hand-offs in queue order;
 * a waiter that withdraws, one whose context is gone, one that died queued, and a holder
 * that died (taken over by a waiter's holder check, which is told) leave no one stuck.
 * Broken variants the checker must catch: an unlock that reads the tail before it takes
 * the guard, and a locker that queues without checking `Locked` again under the guard.
 */
import { describe, expect, it } from 'vitest';
import {
  CO_MUTEX_ENTRY,
  CoLockResult,
  CoMutexWord,
  type RingHooks,
  coAwaitFree,
  coHandOff,
  coHolderDied,
  coLockOrEnqueue,
  coLocked,
  coWithdraw,
} from '../../../packages/aio-core/src/coroutine/co-mutex-ring.js';
import type { FutexOps } from '../../../packages/aio-core/src/locks/futex.js';
import { type DeathRecord, shortUnlock } from '../../../packages/aio-core/src/locks/short-lock.js';
import { type CheckOptions, type GiveUp, type Model, type SimThread, check, checkpoint } from './model-checker.js';
import { NO_DEATHS, deathsAt, takeShortLock } from './short-lock-programs.js';
import { brokenSummary, expectCaught, expectClean } from './model-expect.js';

const { Guard: GUARD, GuardOwner: GUARD_OWNER, Locked: LOCKED, Head: HEAD, Tail: TAIL, Holder: HOLDER, Ring: RING } = CoMutexWord;
/** Ring entries: enough for every waiter of the 3-thread models, so the entries stay as queued. */
const CAP = 2;
const INSIDE = RING + CO_MUTEX_ENTRY * CAP;
/** Grant word of thread `me` (1 granted, 2 granted after a holder died), a futex its waiter sleeps on. */
const grant = (me: number): number => INSIDE + me;
/** Id of a thread that ended; id of a thread whose context closed. */
const DEAD = grant(4);
const GONE = DEAD + 1;
/** The threads handed the mutex, in order, one base-4 digit each. */
const ORDER = GONE + 1;
/** Set, and woken, when a dead waiter was handed the mutex (a watcher's timer fires after it). */
const TICK = ORDER + 1;
const WORDS = TICK + 1;

/**
 * The ring's hooks for thread `me`: the short lock as guard, the grant word as hand-off.
 * `at` names where the thread's body is (see checkpoint(), model-checker.ts): while it
 * is set, the guard checkpoints once it is held, which is sound where the algorithm
 * calling it carries no local across the call (all but coHolderDied()).
 */
interface ModelHooks extends RingHooks {
  at: string | null;
}

function hooks(f: FutexOps, me: number, deaths: DeathRecord): ModelHooks {
  return {
    at: null,
    guard() {
      takeShortLock(f, this.at, GUARD, GUARD_OWNER, me, undefined, deaths);
      if (this.at !== null) checkpoint(f, `${this.at}: guarded`);
    },
    unguard: () => shortUnlock(f, GUARD, GUARD_OWNER),
    handTo: (_slot, _id, thread, ownerDied) => {
      // As shared-co-mutex.ts: a dead waiter keeps the mutex (for the next holder check),
      // a waiter whose context closed is skipped. The model's own words are plain
      // accesses: they add no steps.
      if (f.read(DEAD) === thread) {
        f.store(TICK, 1);
        f.notify(TICK, 1);
        return true;
      }
      if (f.read(GONE) === thread) return false;
      f.write(ORDER, f.read(ORDER) * 4 + thread);
      f.store(grant(thread), ownerDied ? 2 : 1);
      f.notify(grant(thread), 1);
      return true;
    },
  };
}

type Unlock = (f: FutexOps, h: ModelHooks) => void;

/** sharedUnlock(). */
const unlock: Unlock = (f, h) => {
  if (!coLocked(f)) throw new Error('unlock of a free mutex');
  h.guard();
  coHandOff(f, h, CAP, false);
};

/** The holder check of a waiting context's timer (shared-co-mutex.ts). */
function holderCheck(f: FutexOps, h: ModelHooks, deaths: DeathRecord, at: string): void {
  h.at = null;
  const died = coHolderDied(f, h, deaths);
  h.at = at;
  if (died) coHandOff(f, h, CAP, true);
}

interface LockerOptions {
  readonly rounds?: number;
  readonly unlock?: Unlock;
  /**
   * Once queued: 'vanishes' (its context is gone before any hand-off reaches it, its
   * thread lives on: see Start.gone), 'withdraws' (as a waiter whose signal aborts, or
   * whose context closes: if it was handed the mutex already, it takes it and passes it
   * on).
   */
  readonly queuedThen?: 'vanishes' | 'withdraws';
  /** Holds the mutex from the start (see Start.holder) and only unlocks it. */
  readonly startsHolding?: boolean;
  /** Is queued from the start (see Start.queued): waits for the hand-off, then unlocks. */
  readonly startsQueued?: boolean;
  readonly lock?: (f: FutexOps, h: ModelHooks, me: number) => number;
}

const lock = (f: FutexOps, h: ModelHooks, me: number): number => coLockOrEnqueue(f, h, CAP, me, me, me);

/** Takes the mutex `rounds` times (one step inside each time); returns the grant values it got. */
function locker(o: LockerOptions = {}): SimThread['run'] {
  return (f, me) => {
    const h = hooks(f, me, NO_DEATHS);
    const grants: number[] = [];
    for (let k = 0; k < (o.rounds ?? 1); k++) {
      h.at = `round ${k}, grants ${grants}`;
      checkpoint(f, h.at);
      f.write(grant(me), 0);
      const r = o.startsHolding ? CoLockResult.Taken : o.startsQueued ? CoLockResult.Queued : (o.lock ?? lock)(f, h, me);
      if (r === CoLockResult.Full) throw new Error('the ring is full');
      if (r === CoLockResult.Queued) {
        checkpoint(f, `queued ${k}, grants ${grants}`);
        if (o.queuedThen === 'vanishes') return 'vanished';
        h.at = `withdrawing ${k}, grants ${grants}`;
        if (o.queuedThen === 'withdraws' && coWithdraw(f, h, CAP, me, me)) return 'withdrew';
        while (f.load(grant(me)) === 0) {
          checkpoint(f, `waiting ${k}, grants ${grants}`);
          f.wait(grant(me), 0, false);
        }
        grants.push(f.load(grant(me)));
      }
      checkpoint(f, `holding ${k}, grants ${grants}`);
      // Inside from the step that took the mutex (plain accesses join it) to a step of its own.
      if (f.read(INSIDE) !== 0) throw new Error(`thread ${f.read(INSIDE)} holds the mutex too`);
      f.write(INSIDE, me);
      f.store(INSIDE, 0);
      h.at = `unlocking ${k}, grants ${grants}`;
      checkpoint(f, h.at);
      (o.unlock ?? unlock)(f, h);
    }
    return grants;
  };
}

/**
 * The holder watch of a waiting context (shared-co-mutex.ts), whose timer fires at any
 * time: a holder check at once, and, with `again`, one more after a dead waiter was
 * handed the mutex.
 */
function watcher(again: boolean): SimThread['run'] {
  return (f, me) => {
    const deaths = deathsAt(f, DEAD);
    const h = hooks(f, me, deaths);
    checkpoint(f, 'check');
    holderCheck(f, h, deaths, 'check');
    if (!again) return [];
    checkpoint(f, 'tick');
    while (f.load(TICK) === 0) f.wait(TICK, 0, false);
    checkpoint(f, 'check again');
    holderCheck(f, h, deaths, 'check again');
    return [];
  };
}

/** Live entries (queued, not withdrawn) between Head and Tail. */
function queued(m: readonly number[]): number[] {
  const threads: number[] = [];
  for (let pos = m[HEAD]!; pos !== m[TAIL]! && threads.length < CAP; pos++) {
    const e = RING + CO_MUTEX_ENTRY * (pos & (CAP - 1));
    if (m[e + 1] !== 0) threads.push(m[e + 2]!);
  }
  return threads;
}

/** How a model starts (all 0 by default). */
interface Start {
  /** The thread holding the mutex (it may be a thread that is not simulated). */
  readonly holder?: number;
  /** A thread whose context is gone. */
  readonly gone?: number;
  /** A thread that ended (recorded as dead). */
  readonly dead?: number;
  /** A thread queued first in the ring. */
  readonly queued?: number;
}

function coMutexModel(threads: [string, SimThread['run'], GiveUp?][], final?: Model['final'], start: Start = {}): Model {
  const init = new Array<number>(WORDS).fill(0);
  init[LOCKED] = start.holder ? 1 : 0;
  init[HOLDER] = start.holder ?? 0;
  init[GONE] = start.gone ?? 0;
  init[DEAD] = start.dead ?? 0;
  if (start.queued) {
    init[RING] = init[RING + 1] = init[RING + 2] = start.queued;
    init[TAIL] = 1;
  }
  return {
    words: WORDS,
    init,
    threads: threads.map(([name, run, giveUp]) => ({ name, run, giveUp: giveUp ?? 'never' })),
    invariant: (m) => {
      // Checked where no guard holder is between its writes.
      if (m[GUARD] === 0 && m[LOCKED] === 0 && queued(m).length > 0) return `the mutex is free with [${queued(m)}] queued`;
      return undefined;
    },
    final: (m, results) => {
      if (m[LOCKED] !== 0 && m[HOLDER] !== m[DEAD]) return `mutex left locked by ${m[HOLDER]}`;
      if (m[GUARD] !== 0) return `guard left in state ${m[GUARD]}`;
      return final?.(m, results);
    },
  };
}

/** Hand-offs went in queue order: the ring still holds every entry queued (CAP covers them). */
const inQueueOrder: Model['final'] = (m) => {
  const order: number[] = [];
  for (let o = m[ORDER]!; o !== 0; o = Math.floor(o / 4)) order.unshift(o % 4);
  const ring: number[] = [];
  for (let pos = 0; pos < m[TAIL]!; pos++) {
    const e = RING + CO_MUTEX_ENTRY * pos;
    if (m[e + 1] !== 0 && m[e + 2] !== m[GONE]) ring.push(m[e + 2]!);
  }
  return order.join() === ring.join() ? undefined : `handed to [${order}], queued as [${ring}]`;
};

/** How many waiters were told of the holder's death. */
const told = (results: readonly unknown[]): number => results.flatMap((r) => (Array.isArray(r) ? r : [])).filter((g) => g === 2).length;

/** At most one waiter was told of the holder's death. */
const toldOnce: Model['final'] = (_m, results) => (told(results) > 1 ? `${told(results)} waiters were told the holder died` : undefined);

/** Checks that some schedule of `model` hands the mutex on with the holder's death told (the takeover is reached, not only allowed). */
function expectTakeoverReached(model: Model, options: CheckOptions) {
  const r = check({ ...model, final: (m, results) => (told(results) === 1 ? 'told' : model.final?.(m, results)) }, options);
  expect(r.violation?.message).toBe('told');
}

const OPTIONS: CheckOptions = { maxSteps: 100 };

describe('/coroutine/model/shared-co-mutex', () => {
  it('a holder and 2 lockers: mutual exclusion, hand-off in queue order', () => {
    const r = expectClean(
      'co-mutex ring holder + 2',
      coMutexModel(
        [
          ['holder', locker({ startsHolding: true })],
          ['T2', locker()],
          ['T3', locker()],
        ],
        inQueueOrder,
        { holder: 1 },
      ),
      OPTIONS,
    );
    expect(r.truncated).toBe(0);
  });

  it('2 threads x 2 rounds (the ring wraps), ring accesses as steps', () => {
    const r = expectClean(
      'co-mutex ring 2x2',
      coMutexModel([
        ['T1', locker({ rounds: 2 })],
        ['T2', locker({ rounds: 2 })],
      ]),
      { plainAccessesAreSteps: true, maxSteps: 250 },
    );
    expect(r.truncated).toBe(0);
  });

  it('a waiter that withdraws, one whose context is gone, and a holder', () => {
    expectClean(
      'co-mutex ring withdraw + gone',
      coMutexModel(
        [
          ['holder', locker({ startsHolding: true })],
          ['withdraws', locker({ queuedThen: 'withdraws' })],
          ['vanishes', locker({ queuedThen: 'vanishes' })],
        ],
        inQueueOrder,
        { holder: 1, gone: 3 },
      ),
      OPTIONS,
    );
  });

  it('a holder that died: one of two holder checks hands the mutex on, and its next holder is told', () => {
    // Thread 4 held it and ended, with W queued; two contexts check the holder.
    const model = coMutexModel(
      [
        ['W', locker({ startsQueued: true })],
        ['watcher1', watcher(false)],
        ['watcher2', watcher(false)],
      ],
      toldOnce,
      { holder: 4, dead: 4, queued: 1 },
    );
    expectClean('co-mutex ring dead holder', model, OPTIONS);
    expectTakeoverReached(model, OPTIONS);
  });

  it('a waiter that died queued is handed the mutex and keeps it for the next holder check', () => {
    // Thread 4 queued first and ended; the holder unlocks, W queues, a context checks the holder.
    const model = coMutexModel(
      [
        ['holder', locker({ startsHolding: true })],
        ['W', locker()],
        ['watcher', watcher(true)],
      ],
      toldOnce,
      { holder: 1, queued: 4, dead: 4 },
    );
    expectClean('co-mutex ring dead waiter', model, OPTIONS);
    expectTakeoverReached(model, OPTIONS);
  });

  it('catches an unlock that reads the tail before it takes the guard', () => {
    const early: Unlock = (f, h) => {
      const tail = f.read(TAIL); // too early: a waiter may queue before the guard is ours
      h.guard();
      let head = f.read(HEAD);
      let id = 0;
      let thread = 0;
      while (head !== tail && id === 0) {
        const e = RING + CO_MUTEX_ENTRY * (head & (CAP - 1));
        id = f.read(e + 1);
        thread = f.read(e + 2);
        head++;
      }
      f.write(HEAD, head);
      f.store(HOLDER, thread);
      if (id === 0) f.store(LOCKED, 0);
      h.unguard();
      if (id !== 0) h.handTo(0, id, thread, false);
    };
    const r = check(
      coMutexModel([
        ['T1', locker({ unlock: early })],
        ['T2', locker({ unlock: early })],
      ]),
      OPTIONS,
    );
    console.log(brokenSummary('broken co-mutex ring: tail read before the guard', r));
    expect(r.violation?.kind).toBe('invariant');
  });

  it('catches a locker that queues without checking Locked again under the guard', () => {
    const noRecheck = (f: FutexOps, h: RingHooks, me: number): number => {
      if (f.compareExchange(LOCKED, 0, 1) === 0) {
        f.store(HOLDER, me);
        return CoLockResult.Taken;
      }
      h.guard(); // the holder may have freed it since
      const tail = f.read(TAIL);
      const e = RING + CO_MUTEX_ENTRY * (tail & (CAP - 1));
      f.write(e, me);
      f.write(e + 1, me);
      f.write(e + 2, me);
      f.write(TAIL, tail + 1);
      h.unguard();
      return CoLockResult.Queued;
    };
    const r = check(
      coMutexModel([
        ['T1', locker({ lock: noRecheck })],
        ['T2', locker({ lock: noRecheck })],
      ]),
      OPTIONS,
    );
    console.log(brokenSummary('broken co-mutex ring: no re-check under the guard', r));
    expect(r.violation?.kind).toBe('invariant');
  });

  describe('waitForUnlock (coAwaitFree)', () => {
    /** A holder, a locker that queues behind it, and a watcher of the free mutex; a sleeper while Locked is 0 is a lost wake-up. */
    const watched = (watch: (f: FutexOps) => boolean, giveUp: GiveUp = 'never'): Model => ({
      ...coMutexModel(
        [
          ['holder', locker({ startsHolding: true })],
          ['T2', locker()],
          ['W', (f) => watch(f), giveUp],
        ],
        undefined,
        { holder: 1 },
      ),
      canProceed: (m) => m[LOCKED] === 0,
    });

    it('a watcher sees the mutex free once the queue has drained', () => {
      expectClean('co-mutex ring holder + locker + waitForUnlock', watched((f) => coAwaitFree(f, true)), OPTIONS);
    });

    it('a watcher that may abort after being woken', () => {
      expectClean('co-mutex ring holder + locker + waitForUnlock(abort)', watched((f) => coAwaitFree(f, true), 'abort'), OPTIONS);
    });

    it('catches a watcher that sleeps without announcing itself', () => {
      const unannounced = (f: FutexOps): boolean => {
        while (f.load(LOCKED) !== 0) f.wait(LOCKED, 1, false);
        return true;
      };
      expectCaught('broken co-mutex waitForUnlock, unannounced', watched(unannounced), ['lost-wakeup'], OPTIONS);
    });
  });
});
