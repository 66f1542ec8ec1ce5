/**
 * Timers (QEMU's QEMUTimer and QEMUTimerList). Each context has one timer list per clock
 * type. A list is an indexed binary min-heap ordered by (deadline, arming sequence), so
 * timers with equal deadlines fire in the order they were armed, and arm/cancel stay
 * O(log n) with 100,000 timers pending.
 *
 * Timers belong to their context's home thread: every method here is home-thread only.
 */
import { type ClockType, checkClock, clockEnabled, clockNs } from './clock.js';
import { checkFunction, checkNumber } from '../base/errors.js';

/** What a timer list needs from its context. */
export interface TimerOwner {
  readonly name: string;
  /**
   * Wakes a pass of the context asleep in this thread: a new earliest deadline must shorten
   * its sleep (aio_notify). A pass not asleep yet computes its sleep after this.
   */
  _wakeSleeper(): void;
  /** Throws when the context is closed. */
  assertOpen(what: string): void;
}

/** How many timers are armed in a context's lists, all clocks together (a pass with none skips them). */
export interface ArmedTimers {
  count: number;
}

/** The timers of one clock in one context. Internal to aio-core. */
export class TimerList {
  readonly clock: ClockType;
  readonly #owner: TimerOwner;
  readonly #armed: ArmedTimers;
  #heap: Timer[] = [];
  #seq = 0;

  /** `armed` is shared by the context's lists. */
  constructor(owner: TimerOwner, clock: ClockType, armed: ArmedTimers) {
    this.#owner = owner;
    this.clock = clock;
    this.#armed = armed;
  }

  /** Number of pending timers. */
  get size(): number {
    return this.#heap.length;
  }

  /** ns until the earliest timer is due: -1 if none or the clock is disabled, else >= 0. */
  deadlineNs(): number {
    const head = this.#heap[0];
    if (!head || !clockEnabled(this.clock)) return -1;
    return Math.max(0, head._expire - clockNs(this.clock));
  }

  /**
   * Runs every timer due at one reading of the clock (timerlist_run_timers). A callback
   * that re-arms its timer at or before that reading runs again in this pass.
   * Returns how many callbacks ran.
   */
  run(): number {
    if (this.#heap.length === 0 || !clockEnabled(this.clock)) return 0;
    const now = clockNs(this.clock);
    let fired = 0;
    for (;;) {
      const head = this.#heap[0];
      if (!head || head._expire > now) break;
      this.#removeAt(0);
      head._expire = -1;
      fired++;
      head._cb();
    }
    return fired;
  }

  /** Arms `t` at `expireNs`; returns true if it became the earliest. */
  _insert(t: Timer, expireNs: number): boolean {
    if (t._index >= 0) this.#removeAt(t._index);
    t._expire = Math.max(0, expireNs);
    t._seq = this.#seq++;
    const i = this.#heap.length;
    this.#heap.push(t);
    this.#armed.count++;
    t._index = i;
    this.#up(i);
    if (t._index === 0) {
      this.#owner._wakeSleeper();
      return true;
    }
    return false;
  }

  /** Disarms `t`. */
  _remove(t: Timer): void {
    if (t._index >= 0) this.#removeAt(t._index);
    t._expire = -1;
  }

  #less(a: Timer, b: Timer): boolean {
    return a._expire < b._expire || (a._expire === b._expire && a._seq < b._seq);
  }

  #removeAt(i: number): void {
    const heap = this.#heap;
    const t = heap[i]!;
    const last = heap.pop()!;
    this.#armed.count--;
    t._index = -1;
    if (last !== t) {
      heap[i] = last;
      last._index = i;
      this.#down(i);
      this.#up(last._index);
    }
  }

  #up(i: number): void {
    const heap = this.#heap;
    const t = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (!this.#less(t, parent)) break;
      heap[i] = parent;
      parent._index = i;
      i = p;
    }
    heap[i] = t;
    t._index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const t = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.#less(heap[r]!, heap[l]!) ? r : l;
      const child = heap[c]!;
      if (!this.#less(child, t)) break;
      heap[i] = child;
      child._index = i;
      i = c;
    }
    heap[i] = t;
    t._index = i;
  }
}

/**
 * A timer of one context (QEMUTimer), created with `ctx.timer(clock, scale, cb)`. Its
 * callback runs in the context's poll, in the timer phase, after bottom halves and
 * handlers. Home thread of its context only.
 *
 * @example
 * ```ts
 * import { AioContext, Clock, SCALE_MS, clockNs } from 'aio-node';
 *
 * const ctx = new AioContext();
 * const timer = ctx.timer(Clock.Realtime, SCALE_MS, () => console.log('5 ms later'));
 * timer.mod(clockNs(Clock.Realtime) / SCALE_MS + 5); // an expiry in milliseconds
 * while (timer.pending()) ctx.poll(true); // sleeps until the deadline
 * ctx.close();
 * ```
 */
export class Timer {
  /** Absolute deadline in ns, -1 when not pending. @internal */
  _expire = -1;
  /** Arming sequence, for FIFO order among equal deadlines. @internal */
  _seq = 0;
  /** Position in the heap, -1 when not pending. @internal */
  _index = -1;
  /** The callback. @internal */
  readonly _cb: () => void;
  readonly #list: TimerList;
  readonly #owner: TimerOwner;
  /** Nanoseconds per unit of `mod()`/`modAnticipate()`. */
  readonly scale: number;

  /** @internal Use `ctx.timer()`. */
  constructor(owner: TimerOwner, list: TimerList, scale: number, cb: () => void) {
    this.#owner = owner;
    this.#list = list;
    this.scale = scale;
    this._cb = cb;
  }

  /** The clock this timer runs on. */
  get clock(): ClockType {
    return this.#list.clock;
  }

  /** Arms the timer at `expire` (absolute, in the timer's scale) on its clock (timer_mod). Home thread. */
  mod(expire: number): void {
    checkNumber('expire', expire);
    this.modNs(expire * this.scale);
  }

  /** Arms the timer at `expireNs` (absolute ns on its clock), replacing any earlier arming (timer_mod_ns). Home thread. */
  modNs(expireNs: number): void {
    checkNumber('expireNs', expireNs);
    this.#owner.assertOpen('Timer.modNs()');
    this.#list._insert(this, expireNs);
  }

  /** Like `mod()`, but only ever moves the deadline earlier (or arms an idle timer) (timer_mod_anticipate). Home thread. */
  modAnticipate(expire: number): void {
    checkNumber('expire', expire);
    this.modAnticipateNs(expire * this.scale);
  }

  /** Nanosecond form of `modAnticipate()`. Home thread. */
  modAnticipateNs(expireNs: number): void {
    checkNumber('expireNs', expireNs);
    this.#owner.assertOpen('Timer.modAnticipateNs()');
    if (this._expire < 0 || Math.max(0, expireNs) < this._expire) this.#list._insert(this, expireNs);
  }

  /** Disarms the timer; a no-op when it is not pending (timer_del). Home thread. */
  del(): void {
    this.#list._remove(this);
  }

  /** True while armed (timer_pending). Home thread. */
  pending(): boolean {
    return this._expire >= 0;
  }

  /** True when armed and due at `nowNs`, i.e. `expireTimeNs() <= nowNs` (timer_expired). Home thread. */
  expired(nowNs: number): boolean {
    checkNumber('nowNs', nowNs);
    return this._expire >= 0 && this._expire <= nowNs;
  }

  /** The deadline in ns, or -1 when not pending (timer_expire_time_ns). Home thread. */
  expireTimeNs(): number {
    return this._expire;
  }
}

/** Validates `ctx.timer()` arguments. @internal */
export function checkTimerArgs(clock: unknown, scale: unknown, cb: unknown): void {
  checkClock('clock', clock);
  checkNumber('scale', scale, Number.MIN_VALUE);
  checkFunction('cb', cb);
}

