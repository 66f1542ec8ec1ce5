/**
 * Polling for replies: while calls made from this thread await their replies in a
 * context, a blocking pass of that context first spins on its `Notified` word for a while
 * before it announces a sleep, the way an IOThread polls for work (QEMU's adaptive
 * polling, applied to the one event a caller is sure to get). A reply that comes within
 * the spin is dispatched in the same turn, and the replier's notify finds no sleeper, so
 * it costs neither side a futex wake nor the caller a trip through the host loop.
 *
 * Owns: the count of replies awaited in the context and the adaptive spin budget. The
 * budget adapts as a QEMU poll handler's does, with one difference. A spin that caught
 * its reply doubles the budget (up to the ceiling), a pass that slept and was woken
 * sooner than the ceiling allows grows it too (from 4 µs), and a spin that ended without
 * a reply halves it, to 0 below 4 µs. At 0, unlike QEMU, it is tried again after a number
 * of sleeping passes that doubles with each failure (8 up to 512): the two ends of a call
 * are bistable, each polling only while the other answers fast, and where waking a
 * sleeping thread takes longer than the ceiling (a loaded VM) a pass woken from its
 * sleep never looks fast enough to grow it. The ceiling bounds what a spin costs; the
 * back-off bounds how often a failing one runs. Ceiling 0 turns it off.
 *
 * Home thread of the context.
 */
import { getHost } from '../base/host.js';
import type { FutexOps } from '../locks/futex.js';
import { notifyPending } from './notify.js';

/** Default ceiling of the spin, in ns (QEMU's IOThread poll-max-ns). */
export const REPLY_POLL_MAX_NS_DEFAULT = 32768;
/** Where a grown budget starts; a halved one below it drops to 0. */
const FIRST_BUDGET_NS = 4096;
/** Sleeping passes before a budget at 0 is tried again, after the first failure and at most. */
const FIRST_RETRY_PASSES = 8;
const MAX_RETRY_PASSES = 512;
/** Loads of the word between two clock reads (a clock read costs several loads). */
const LOADS_PER_CLOCK_READ = 8;

/** The reply polling of one context. Home thread. */
export class ReplyPoll {
  /** Replies awaited here (calls made from this thread whose reply lands in this context). */
  awaited = 0;
  /** Time spent spinning (part of the context's `pollingNs`). */
  spinningNs = 0;
  #maxNs: number;
  #budgetNs: number;
  /** With the budget at 0: sleeping passes left before it is tried again, and the next back-off. */
  #retryIn = 0;
  #backoff = FIRST_RETRY_PASSES;

  constructor(maxNs: number) {
    this.#maxNs = maxNs;
    this.#budgetNs = maxNs;
  }

  /** The ceiling in ns (0: off). */
  get maxNs(): number {
    return this.#maxNs;
  }

  set maxNs(ns: number) {
    this.#maxNs = ns;
    this.#budgetNs = ns;
    this.#backoff = FIRST_RETRY_PASSES;
  }

  /** Whether a pass about to sleep should spin first. */
  get active(): boolean {
    return this.awaited > 0 && this.#budgetNs > 0;
  }

  /**
   * Spins until a notify is pending on the slot at `b` (true) or the budget or `timeoutNs`
   * (-1: none) runs out (false). Call before the pass announces its sleep: with NotifyMe
   * at 0 a notifier only stores Notified (notify.ts), which is the load here.
   */
  spin(f: FutexOps, b: number, timeoutNs: number): boolean {
    const host = getHost();
    const limit = timeoutNs >= 0 && timeoutNs < this.#budgetNs ? timeoutNs : this.#budgetNs;
    const start = host.nowNs();
    let now = start;
    for (;;) {
      for (let i = 0; i < LOADS_PER_CLOCK_READ; i++) {
        if (notifyPending(f, b)) {
          this.spinningNs += now - start;
          this.#grow();
          this.#backoff = FIRST_RETRY_PASSES;
          return true;
        }
      }
      now = host.nowNs();
      if (now - start >= limit) break;
    }
    this.spinningNs += now - start;
    // A spin cut short by the pass's deadline (a timer due) says nothing of the replies.
    if (limit < this.#budgetNs) return false;
    const half = this.#budgetNs / 2;
    if (half >= FIRST_BUDGET_NS) this.#budgetNs = half;
    else {
      this.#budgetNs = 0;
      this.#retryIn = this.#backoff;
      this.#backoff = Math.min(MAX_RETRY_PASSES, this.#backoff * 2);
    }
    return false;
  }

  /**
   * A pass slept `sleptNs` with replies awaited and was woken: grow the budget if a spin
   * that long would have caught it, and count down the back-off of a budget at 0.
   */
  slept(sleptNs: number): void {
    if (sleptNs < this.#maxNs) this.#grow();
    else if (this.#budgetNs === 0 && --this.#retryIn <= 0) this.#budgetNs = Math.min(this.#maxNs, FIRST_BUDGET_NS);
  }

  #grow(): void {
    this.#budgetNs = Math.min(this.#maxNs, this.#budgetNs === 0 ? FIRST_BUDGET_NS : this.#budgetNs * 2);
  }
}
