/**
 * Event: QEMU's QemuEvent (a manual-reset event, util/event.c) in shared memory.
 *
 * Owns: the event algorithm and its three-state futex word.
 *
 * Words (from the handle's index):
 *   0 value  SET 0, FREE 1 (not set, nobody sleeps), BUSY -1 (not set, someone may sleep);
 *            the futex word waiters sleep on (while BUSY)
 *
 * Transitions, each done by one atomic operation:
 *   FREE -> SET, BUSY -> SET   set(): exchange; from BUSY it wakes every sleeper
 *   SET -> FREE                reset(): or with 1 (leaves FREE and BUSY alone: -1 | 1 = -1)
 *   FREE -> BUSY               wait(): compareExchange, before sleeping
 * BUSY -> FREE never happens, so a sleeper is never left behind a word that set() would
 * not wake. Use it as QEMU does: reset(); check the condition; wait().
 */
import { checkBoolean } from '../base/errors.js';
import { type AbortSignalLike, type FutexOps, cannotBlock } from './futex.js';
import { type LockHandle, SharedLock, fromHandle, lockKind } from './handle.js';

/** Word offsets and values of the event layout. @internal */
const EventWord = { Value: 0, Size: 1 } as const;

const SET = 0;
const FREE = 1;
const BUSY = -1;

// ---------------------------------------------------------------------------------------
// Algorithm (deterministic, see futex.ts)

/** Sets the event at `b`, waking every sleeper (qemu_event_set). @internal */
export function eventSet(f: FutexOps, b: number): void {
  // Skipping the write when already SET is safe: a waiter that saw SET returns, and one
  // that did not will see it in its next load. Pairs with the load in eventWait().
  if (f.load(b) !== SET) {
    // Pairs with the compareExchange FREE -> BUSY in eventWait(): if it came first we see
    // BUSY and wake; if it comes second it fails, seeing SET.
    if (f.exchange(b, SET) === BUSY) f.notify(b, Infinity);
  }
}

/** Resets the event at `b` (qemu_event_reset): SET -> FREE, others unchanged. @internal */
export function eventReset(f: FutexOps, b: number): void {
  // Pairs with the exchange in eventSet(): a set after this is seen by later waits.
  f.or(b, FREE);
}

/** Waits until the event at `b` is set; false if a cancellable wait gave up. @internal */
export function eventWait(f: FutexOps, b: number, cancellable: boolean): boolean {
  for (;;) {
    // Pairs with the exchange in eventSet().
    const v = f.load(b);
    if (v === SET) return true;
    // Announce a sleeper; if set() got in first the compareExchange sees SET.
    if (v === FREE && f.compareExchange(b, FREE, BUSY) === SET) return true;
    // Sleeps only while BUSY; pairs with the notify in eventSet(). set() wakes every
    // sleeper, so giving up consumes nothing another waiter needs.
    if (f.wait(b, BUSY, cancellable) === 'timed-out') return false;
  }
}

// ---------------------------------------------------------------------------------------
// Class

/** The structured-cloneable form of an {@link Event}. */
export type EventHandle = LockHandle<'aio.Event'>;

const EVENT = lockKind('Event', EventWord.Size);
/** The wait of wait(), timedWait() and waitAsync(). */
const waitStep = (f: FutexOps, b: number): boolean => eventWait(f, b, true);

/**
 * A manual-reset event in shared memory (QemuEvent). Any thread.
 *
 * @example
 * ```ts
 * import { Event } from 'aio-node';
 *
 * const started = new Event(); // Event.from(started.handle) in the thread that sets it
 * started.set();
 * await started.waitAsync(); // returns at once while set
 * started.reset();
 * console.log(started.isSet()); // false
 * ```
 */
export class Event extends SharedLock<'aio.Event'> {
  /** Creates an event, set when `initiallySet` is true (qemu_event_init). Any thread. */
  constructor(initiallySet = false) {
    checkBoolean('initiallySet', initiallySet);
    super(EVENT, (mem, b) => {
      mem[b] = initiallySet ? SET : FREE;
    });
  }

  /**
   * Rebuilds an event from its handle; throws ERR_AIO_BAD_HANDLE if `handle` is not an
   * Event handle. Any thread.
   */
  static from(handle: EventHandle): Event {
    return fromHandle(EVENT, handle, () => new Event());
  }

  /** Sets the event and wakes every waiter (qemu_event_set). Never blocks. Any thread. */
  set(): void {
    eventSet(this._f, this._b);
  }

  /** Resets the event if set (qemu_event_reset). Never blocks. Any thread. */
  reset(): void {
    eventReset(this._f, this._b);
  }

  /**
   * Waits until the event is set (qemu_event_wait); returns at once if it is. Throws
   * ERR_AIO_CANNOT_BLOCK if it would have to wait in a thread that may not block. Any
   * thread.
   */
  wait(): void {
    if (!waitStep(this._f, this._b)) cannotBlock('Event.wait()');
  }

  /**
   * Waits at most `ms` milliseconds (`Infinity`: no limit) for the event to be set;
   * returns false on timeout (qemu_event_timedwait). Any thread.
   */
  timedWait(ms: number): boolean {
    return this._timedWait(ms, waitStep);
  }

  /**
   * Waits without blocking the thread; resolves once the event is set. If `signal`
   * aborts first, rejects with `signal.reason`. Any thread.
   */
  waitAsync(signal?: AbortSignalLike): Promise<void> {
    return this._waitAsync(signal, waitStep);
  }

  /** True when the event is set now (a snapshot). Any thread. */
  isSet(): boolean {
    return Atomics.load(this._f.mem, this._b) === SET;
  }
}
