/**
 * One pass of a context's loop (aio_poll, util/aio-posix.c): prepare (how long it may
 * sleep, adaptive polling, which handlers are ready), sleep on the wake word with the
 * context lock dropped, then dispatch in QEMU's order (bottom halves, ready handlers, due
 * timers). It runs the poller side of the wake protocol (notify.ts) around the sleep and
 * keeps the counters and times `stats()` reports.
 *
 * Progress (what a pass returns): true iff a non-idle BH ran, a handler other than the
 * context's own notifier was dispatched, or a timer fired. A notify alone is not progress.
 *
 * Home thread of the context.
 */
import type { BhOwner, BottomHalf } from './bh.js';
import type { BhList, BhPhaseFeed } from './bh-list.js';
import type { ContextLock } from './context-lock.js';
import type { FaultReports } from './faults.js';
import { type HandlerSet, NONE_READY, type ReadyScan } from './handler.js';
import { getHost } from '../base/host.js';
import type { FutexOps } from '../locks/futex.js';
import { acceptNotify, announceSleep, withdrawSleep } from './notify.js';
import type { ReplyPoll } from './reply-poll.js';
import { Slot, type WakeTable } from '../base/shared-memory.js';
import { sleep, sleepAsync } from './sleep.js';
import type { ArmedTimers, TimerList } from './timer.js';
import { soonest } from '../base/timeouts.js';

/** Idle BHs cap a blocking wait at this many ns (QEMU: 10 ms). */
const IDLE_BH_TIMEOUT_NS = 10_000_000;

/**
 * What another layer does in every poll of a context to take in work from other threads
 * (record-intake.ts: records in the inbox ring or delivered by message). The loop knows
 * only this. @internal
 */
export interface ContextIntake {
  /** Whether work waits now (a blocking poll then does not sleep). */
  pending(): boolean;
  /** The longest a blocking poll may sleep, in ns (-1: no limit). */
  maxSleepNs(): number;
  /**
   * Runs at the start of every dispatch, before the BH phase; `notified`: a notify was
   * accepted, so other threads may have added work (see acceptNotify).
   */
  beginDispatch(notified: boolean): void;
  /**
   * Adds a oneshot BH per waiting item to the BH phase's slice (popped from its end: push
   * the last first). Only in passes that accepted a notify: every sender notifies after it
   * published (inbox.ts, and a record delivered by message notifies too).
   */
  take(into: BottomHalf[]): void;
  /** The context is closing, already gone for senders: answers what it will never run. */
  close(): void;
}

/**
 * The context dispatching in this thread now, null when none: a pass sets it to its own
 * and puts back the one it found when it ends, so nested passes leave the outer one
 * current again (a cell, not a stack: only the innermost is ever asked for).
 */
export interface DispatchingNow<C extends BhOwner = BhOwner> {
  ctx: C | null;
}

/** The parts of a context a poll pass works on. */
export interface PollParts {
  /** The context, made current in this thread while the pass dispatches. */
  readonly owner: BhOwner;
  /** The context dispatching in this thread now (see AioContext.current()). */
  readonly dispatching: DispatchingNow;
  readonly table: WakeTable;
  readonly slot: number;
  /** Whether another thread may know the slot, and so notify it with work (ContextBase._exposure). */
  readonly exposure: { readonly exposed: boolean };
  /** `LoopAtomicsOps` over the table, and the first word of the context's slot. */
  readonly ops: FutexOps;
  readonly base: number;
  readonly bhs: BhList;
  readonly handlers: HandlerSet;
  /** Timer lists in the order a pass runs them (CLOCK_ORDER). */
  readonly timers: readonly TimerList[];
  /** How many of their timers are armed: a pass with none skips the lists and their clocks. */
  readonly armedTimers: Readonly<ArmedTimers>;
  readonly intake: ContextIntake;
  readonly faults: FaultReports;
  readonly lock: ContextLock;
  /** Replies awaited here and the spin for them before a sleep. */
  readonly replies: ReplyPoll;
  /** Also measure where time goes (two clock reads per pass). */
  readonly timing: boolean;
  /** Reports a malformed record the BH phase dropped. */
  badRecord(problem: string): void;
}

/** The state of one pass between its preparation and its dispatch. */
interface PollPass extends ReadyScan {
  /** poll(true) or pollAsync: it may sleep (it may still find work and not sleep). */
  blocking: boolean;
  progress: boolean;
  start: number;
  announced: boolean;
  /** With timing: when the sleep ended (it is also when dispatching starts) and how long it was. */
  wokeNs: number;
  sleptNs: number;
}

function newPass(): PollPass {
  return { timeout: 0, ready: NONE_READY, blocking: false, progress: false, start: 0, announced: false, wokeNs: 0, sleptNs: 0 };
}

/** Counters and times of a context's passes (the rest of `stats()` is kept by its parts). */
export interface PassStats {
  polls: number;
  timersFired: number;
  sleepingNs: number;
  dispatchingNs: number;
}

/** The poll passes of one context. Home thread. */
export class Poller {
  readonly #p: PollParts;
  /** What the BH phase takes besides BHs: work from other threads, then fault reports. Made once: the phase is hot. */
  readonly #bhFeed: BhPhaseFeed;
  /** Dispatch passes under way in this thread (nested polls count). */
  depth = 0;
  /**
   * Passes of this context that announced a sleep and did not withdraw it yet: NotifyMe / 2,
   * kept here too because only this thread writes NotifyMe, so this thread can read it
   * without an atomic (see AioContext._enqueueLocal).
   */
  sleepers = 0;
  /** The longest a blocking pass may sleep now, in ns (-1: no limit); see AioContext._setSleepCap. */
  sleepCap: (() => number) | null = null;
  /** Set once the context closed: an asynchronous pass asleep then returns without dispatching. */
  closed = false;
  /** Ends the sleep of the asynchronous pass asleep now, which then returns without dispatching (see restartSleep). */
  #restart: (() => void) | null = null;
  /** Whether the pass dispatching now accepted a notify (other threads may have added work). */
  #notified = false;
  /** The state of the synchronous passes, one per dispatch depth: a pass allocates nothing. */
  readonly #passes: PollPass[] = [];
  /** Work for the end of the next BH phase, once the work taken in it has run. */
  #afterBhPhase: (() => void)[] | null = null;
  readonly stats: PassStats = { polls: 0, timersFired: 0, sleepingNs: 0, dispatchingNs: 0 };

  constructor(parts: PollParts) {
    this.#p = parts;
    this.#bhFeed = {
      feed: (slice) => {
        if (this.#notified) parts.intake.take(slice);
        if (parts.faults.waiting) parts.faults.take(parts.owner, slice);
      },
      bad: (problem) => parts.badRecord(problem),
    };
  }

  /** Queues `fn` for the end of the next BH phase (see AioContext._afterBhPhase). */
  afterBhPhase(fn: () => void): void {
    (this.#afterBhPhase ??= []).push(fn);
  }

  /** Drops what waits for the next BH phase (the context closes). */
  clear(): void {
    this.#afterBhPhase = null;
    this.closed = true;
  }

  /** One pass; `blocking` sleeps (Atomics.wait) until there is work. Returns progress. */
  poll(blocking: boolean): boolean {
    const p = this.#p;
    // Nested polls (from a callback of this one) are one level deeper, so they never share
    // a pass object with a pass still under way; an asynchronous pass makes its own.
    const pass = this.#prepare(blocking, (this.#passes[this.depth] ??= newPass()));
    if (pass.timeout !== 0 && this.sleepCap !== null) {
      const cap = this.sleepCap();
      if (cap >= 0 && (pass.timeout < 0 || pass.timeout > cap)) pass.timeout = cap;
    }
    if (pass.timeout !== 0) {
      const t0 = p.timing || p.replies.awaited > 0 ? getHost().nowNs() : 0;
      // Others may take the context while it sleeps: it holds no lock there.
      const depth = p.lock.drop();
      sleep(p.table.words, p.base + Slot.Wake, pass.timeout);
      p.lock.retake(depth);
      // Recorded after the dispatch: the woken thread's first job is to answer.
      if (t0 > 0) this.#woke(pass, t0);
      p.handlers.collectReady(pass);
    }
    return this.#dispatch(pass);
  }

  /**
   * One blocking pass that never blocks the thread: it sleeps with Atomics.waitAsync, the
   * process held alive meanwhile if `keepAlive`. When `wanted()` turns false while it
   * sleeps (the attached loop was detached), it returns false without dispatching and
   * leaves the work to the next pass.
   */
  async pollAsync(keepAlive: boolean, wanted: (() => boolean) | null): Promise<boolean> {
    const p = this.#p;
    const pass = this.#prepare(true, newPass());
    if (pass.timeout !== 0) {
      const t0 = p.timing || p.replies.awaited > 0 ? getHost().nowNs() : 0;
      const depth = p.lock.drop();
      let restarted = false;
      const restart = new Promise<void>((resolve) => {
        this.#restart = () => {
          restarted = true;
          resolve();
        };
      });
      await sleepAsync(p.table.words, p.base + Slot.Wake, pass.timeout, keepAlive, restart);
      this.#restart = null;
      if (this.closed) return false;
      await p.lock.retakeAsync(depth);
      if (restarted || (wanted !== null && !wanted())) {
        if (pass.announced) this.#withdraw();
        return false;
      }
      if (t0 > 0) this.#woke(pass, t0);
      p.handlers.collectReady(pass);
    }
    return this.#dispatch(pass);
  }

  /**
   * Called when a reply becomes awaited: the asynchronous pass asleep now (if any) stops
   * sleeping and returns without dispatching, so that the next pass, run after the code
   * making the call, spins for the reply (reply-poll.ts) instead of sleeping through it
   * in the host loop.
   */
  restartSleep(): void {
    this.#restart?.();
  }

  #prepare(blocking: boolean, pass: PollPass): PollPass {
    const p = this.#p;
    pass.blocking = blocking;
    pass.timeout = blocking ? this.#computeTimeout() : 0;
    // Before the announce: a replier that finds NotifyMe at 0 wakes nobody (notify.ts).
    if (pass.timeout !== 0 && p.replies.active && p.replies.spin(p.ops, p.base, pass.timeout)) pass.timeout = 0;
    // Polling and the readiness scan are called only where they can find something: V8
    // inlines neither, and a pass with only BHs to run paid more for the two calls than
    // for its one atomic load (Deno: 35-36 -> 31-32 ns a BH).
    const polling = p.handlers.params.maxNs > 0;
    pass.ready = NONE_READY;
    pass.start = polling ? getHost().nowNs() : 0;
    pass.announced = false;
    pass.wokeNs = 0;
    pass.sleptNs = 0;
    pass.progress = polling && p.handlers.tryPollMode(pass);
    if (pass.timeout !== 0) {
      // Announce the sleep before looking for work (notify.ts).
      pass.announced = true;
      this.sleepers++;
      if (announceSleep(p.ops, p.base)) pass.timeout = 0;
    }
    // A pass that will not sleep need not look at the context's own notifier: its word is
    // only set to wake a sleeper, running it is no progress, and the next pass that may
    // sleep looks at it (after its announce) before it does.
    if (pass.announced || p.handlers.hasUserHandlers) p.handlers.collectReady(pass, pass.announced);
    if (pass.ready.length > 0) pass.timeout = 0;
    return pass;
  }

  #withdraw(): void {
    this.sleepers--;
    withdrawSleep(this.#p.ops, this.#p.base);
  }

  /** How long a blocking pass may sleep (aio_compute_timeout): 0 with work to do now, capped by idle BHs (10 ms), timers and the intake. */
  #computeTimeout(): number {
    const p = this.#p;
    const bhs = p.bhs.readiness();
    if (bhs === 'now' || p.faults.waiting || p.intake.pending()) return 0;
    let timeout = bhs === 'idle' ? IDLE_BH_TIMEOUT_NS : -1;
    timeout = soonest(timeout, p.intake.maxSleepNs());
    if (p.armedTimers.count > 0) for (const list of p.timers) timeout = soonest(timeout, list.deadlineNs());
    return timeout;
  }

  #dispatch(pass: PollPass): boolean {
    const p = this.#p;
    if (pass.announced) this.#withdraw();
    // A pass that will not sleep, of a context no other thread can reach, has no notify to
    // accept: until the slot is exposed every notify is this thread's own, which brings no
    // work (a notify alone is not progress) and stays set for the next blocking pass, which
    // accepts it. Blocking passes always accept, as before: one that found work pending
    // (a forged remote list, say) takes it instead of returning at once forever. On V8 the
    // atomic load is a builtin call, ~6 ns, a fifth of a pass that runs one BH.
    const notified = (pass.blocking || p.exposure.exposed) && acceptNotify(p.ops, p.base);
    const blockNs = pass.start > 0 ? getHost().nowNs() - pass.start : 0;
    p.intake.beginDispatch(notified);
    this.stats.polls++;
    const t0 = p.timing ? pass.wokeNs || getHost().nowNs() : 0;
    const outer = p.dispatching.ctx;
    p.dispatching.ctx = p.owner;
    this.depth++;
    try {
      let progress = pass.progress;
      if (this.#bhPhase(notified)) progress = true;
      if (pass.ready !== NONE_READY && p.handlers.dispatchReady(pass.ready, blockNs)) progress = true;
      // Not even called without an armed timer: every call kept out of the hot pass leaves
      // the JIT's inlining budget for the BH phase.
      if (p.armedTimers.count > 0 && this.#runTimers()) progress = true;
      return progress;
    } finally {
      this.depth--;
      p.dispatching.ctx = outer;
      if (p.timing) {
        this.stats.sleepingNs += pass.sleptNs;
        this.stats.dispatchingNs += getHost().nowNs() - t0;
        this.#publishTimes();
      }
    }
  }

  /** The BH phase (aio_bh_poll), with the work of other threads and fault reports, then what waited for it. */
  #bhPhase(notified: boolean): boolean {
    // Read by #bhFeed during this phase only; a nested pass sets its own and this phase
    // has taken its work before any callback runs.
    this.#notified = notified;
    let progress = this.#p.bhs.phase(this.#bhFeed, notified);
    if (this.#afterBhPhase !== null) {
      const after = this.#afterBhPhase;
      this.#afterBhPhase = null;
      for (const fn of after) fn();
      progress = true;
    }
    return progress;
  }

  /** Runs the due timers; called only while some are armed. */
  #runTimers(): boolean {
    let fired = 0;
    const timers = this.#p.timers;
    for (let i = 0; i < timers.length; i++) fired += timers[i]!.run();
    this.stats.timersFired += fired;
    return fired > 0;
  }

  #woke(pass: PollPass, sleptSince: number): void {
    pass.wokeNs = getHost().nowNs();
    pass.sleptNs = pass.wokeNs - sleptSince;
    if (this.#p.replies.awaited > 0) this.#p.replies.slept(pass.sleptNs);
  }

  /** Publishes the busy and sleep totals in shared memory (for IOThread utilization). */
  #publishTimes(): void {
    const p = this.#p;
    p.table.publishTimes(p.slot, this.stats.dispatchingNs + p.handlers.pollingNs + p.replies.spinningNs, this.stats.sleepingNs);
  }
}
