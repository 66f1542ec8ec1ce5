/**
 * Waiting for time and for promises inside a coroutine: QEMU's qemu_co_sleep_ns
 * (util/qemu-co-timeout.c, util/qemu-coroutine-sleep.c), and `awaitPromise`, its JS
 * counterpart for anything promise-shaped.
 *
 * Owns: the sleep timer and the promise bridge. While waiting, the coroutine is marked
 * scheduled (as QEMU marks a sleeper), so entering it by mistake throws "already
 * scheduled" instead of cutting the wait short. Both resume the coroutine in the context
 * it was running in when it started to wait. Cancelling the coroutine meanwhile deletes
 * the timer or forgets the promise.
 */
import { watchHostEvent } from '../base/host-yield.js';
import { type ClockType, SCALE_NS, checkClock, clockNs } from '../loop/clock.js';
import { argTypeError, checkNumber } from '../base/errors.js';
import { yieldingSelf } from './coroutine.js';

/**
 * Suspends the running coroutine for `ns` nanoseconds of `clock` (qemu_co_sleep_ns):
 * `yield* sleep(Clock.Realtime, 1e6)`. A timer on the coroutine's context re-enters it
 * from that context's poll; Clock.Virtual timers fire only while that clock is enabled.
 * Arguments are checked when called; the returned generator must run inside a coroutine
 * (ERR_AIO_COROUTINE otherwise). This thread.
 */
export function sleep(clock: ClockType, ns: number): Generator<unknown, void, unknown> {
  checkClock('clock', clock);
  checkNumber('ns', ns, 0);
  return sleepIn(clock, ns);
}

function* sleepIn(clock: ClockType, ns: number): Generator<unknown, void, unknown> {
  const co = yieldingSelf('sleep()');
  co._checkSchedulable('sleep()');
  const ctx = co._ctx!;
  let fired = false;
  const timer = ctx.timer(clock, SCALE_NS, () => {
    fired = true;
    if (co._scheduleSeq !== seq) return;
    // co_sleep_cb: the sleeper is no longer scheduled; wake it where it slept.
    co._scheduled = null;
    co._enterIn(ctx, 'sleep() timer');
  });
  timer.modNs(clockNs(clock) + ns);
  co._scheduled = 'sleep()';
  const seq = ++co._scheduleSeq;
  try {
    yield;
  } finally {
    if (!fired) timer.del();
  }
}

/**
 * Suspends the running coroutine until `p` settles, then resumes it in the context it
 * ran in (through a oneshot bottom half there) and returns the value or throws the
 * reason: `const v = yield* awaitPromise(fetchSomething())`. If that context is closed
 * by then, the coroutine is cancelled with the ERR_AIO_CLOSED error instead. The
 * argument is checked when called; the generator must run inside a coroutine. This thread.
 */
export function awaitPromise<T>(p: PromiseLike<T>): Generator<unknown, T, unknown> {
  if ((typeof p !== 'object' && typeof p !== 'function') || p === null || typeof (p as { then?: unknown }).then !== 'function') {
    throw argTypeError('p', 'a promise or thenable', p);
  }
  return awaitIn(p);
}

function* awaitIn<T>(p: PromiseLike<T>): Generator<unknown, T, unknown> {
  const co = yieldingSelf('awaitPromise()');
  co._checkSchedulable('awaitPromise()');
  const ctx = co._ctx!;
  let waiting = true;
  let failed = false;
  let outcome: unknown;
  const resume = () => {
    if (!waiting || co._scheduleSeq !== seq) return;
    co._scheduled = null;
    co._enterIn(ctx, 'awaitPromise() bottom half');
  };
  // A dedicated IOThread loop gives its host turns while the promise is pending, since
  // what settles it may be a host event (a timer, I/O).
  const hostSettled = watchHostEvent();
  const settle = () => {
    hostSettled();
    if (!waiting) return;
    try {
      ctx.scheduleOneshot(resume, { name: 'awaitPromise' });
    } catch (e) {
      co.cancel(e);
    }
  };
  Promise.resolve(p).then(
    (v) => {
      outcome = v;
      settle();
    },
    (e: unknown) => {
      failed = true;
      outcome = e;
      settle();
    },
  );
  co._scheduled = 'awaitPromise()';
  const seq = ++co._scheduleSeq;
  try {
    yield;
  } finally {
    waiting = false;
    hostSettled();
  }
  if (failed) throw outcome;
  return outcome as T;
}
