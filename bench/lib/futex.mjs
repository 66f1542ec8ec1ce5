// Floors written in the benchmark itself: the futex ping-pong protocol both sides of the
// raw round-trip floors speak, and an inline three-state futex lock (Drepper, "Futexes
// Are Tricky": CAS 0->1; else exchange 2 and Atomics.wait while 2; unlock = exchange 0,
// notify one if it was 2).
import { pause } from './platform.mjs';

/** Words of a ping-pong block: ping sequence, pong sequence, spin-mode switch. */
const PING = 0;
const PONG = 1;
const ACTIVE = 2;
const STOP = -1;

/**
 * Worker side, blocking: answers every ping after `seen` until STOP. Read `seen` before
 * telling the pinging side you are ready, or its first ping may be taken for the old value.
 */
export function futexServer(w, seen) {
  while (seen !== null) {
    Atomics.wait(w, PING, seen);
    seen = answer(w, seen);
  }
}

/** Answers the ping if it is new (pong, wake the pinger); returns what was seen, null at STOP. */
function answer(w, seen) {
  const v = Atomics.load(w, PING);
  if (v === seen) return seen;
  if (v === STOP) return null;
  Atomics.store(w, PONG, v);
  Atomics.notify(w, PONG);
  return v;
}

/**
 * Worker side that never blocks: answers pings with Atomics.waitAsync, as a thread that
 * stays in its host event loop must (see futexServer). Resolves at STOP.
 */
export async function waitAsyncServer(w, seen) {
  while (seen !== null) {
    const r = Atomics.waitAsync(w, PING, seen);
    if (r.async) await r.value;
    seen = answer(w, seen);
  }
}

/** Worker side, spinning while ACTIVE is set, sleeping while it is clear (see futexServer). */
export function spinServer(w, seen) {
  for (;;) {
    if (Atomics.load(w, ACTIVE) === 0) {
      Atomics.wait(w, ACTIVE, 0);
      continue;
    }
    const v = Atomics.load(w, PING);
    if (v === seen) {
      pause();
      continue;
    }
    if (v === STOP) return;
    seen = v;
    Atomics.store(w, PONG, v);
  }
}

/** Main side of the blocking futex ping-pong: n round trips. */
export function futexPing(w, n) {
  let s = Atomics.load(w, PING);
  for (let i = 0; i < n; i++) {
    s++;
    Atomics.store(w, PING, s);
    Atomics.notify(w, PING);
    while (Atomics.load(w, PONG) !== s) Atomics.wait(w, PONG, s - 1);
  }
}

/** Main side with Atomics.waitAsync (a thread that may not block). */
export async function waitAsyncPing(w, n) {
  let s = Atomics.load(w, PING);
  for (let i = 0; i < n; i++) {
    s++;
    Atomics.store(w, PING, s);
    Atomics.notify(w, PING);
    while (Atomics.load(w, PONG) !== s) {
      const r = Atomics.waitAsync(w, PONG, s - 1);
      if (r.async) await r.value;
    }
  }
}

/**
 * Main side of the spin ping-pong: n round trips, or fewer if `budgetMs` runs out (a
 * spinner descheduled on a busy 2-core machine can stretch one sample to many seconds).
 * Returns the number of round trips done.
 */
export function spinPing(w, n, budgetMs = Infinity) {
  let s = Atomics.load(w, PING);
  const deadline = performance.now() + budgetMs;
  Atomics.store(w, ACTIVE, 1);
  Atomics.notify(w, ACTIVE);
  let i = 0;
  outer: for (; i < n; i++) {
    s++;
    Atomics.store(w, PING, s);
    for (let k = 1; Atomics.load(w, PONG) !== s; k++) {
      pause();
      if ((k & 1023) === 0 && performance.now() > deadline) {
        // Let the pong land before the next sample reuses the block.
        while (Atomics.load(w, PONG) !== s) pause();
        i++;
        break outer;
      }
    }
    if ((i & 255) === 255 && performance.now() > deadline) {
      i++;
      break;
    }
  }
  Atomics.store(w, ACTIVE, 0);
  return i;
}

export function stopServer(w) {
  Atomics.store(w, ACTIVE, 1);
  Atomics.store(w, PING, STOP);
  Atomics.notify(w, PING);
  Atomics.notify(w, ACTIVE);
}

/** The inline futex lock on word i of w. */
export function futexLock(w, i) {
  let c = Atomics.compareExchange(w, i, 0, 1);
  if (c === 0) return;
  if (c !== 2) c = Atomics.exchange(w, i, 2);
  while (c !== 0) {
    Atomics.wait(w, i, 2);
    c = Atomics.exchange(w, i, 2);
  }
}

export function futexUnlock(w, i) {
  if (Atomics.exchange(w, i, 0) === 2) Atomics.notify(w, i, 1);
}

/**
 * The inline futex lock naming its holder in the lock word, as an error-checking mutex
 * needs (QemuMutex; aio's Mutex does the same): 0 free, else the holder's id, with the
 * sign bit set once someone may sleep. Lock: compareExchange 0 -> me; unlock:
 * compareExchange me -> 0, which is also the ownership check.
 */
const WAITERS = -0x80000000;

export function futexLockOwned(w, i, me) {
  let c = Atomics.compareExchange(w, i, 0, me);
  while (c !== 0) {
    if (c > 0 && Atomics.compareExchange(w, i, c, c | WAITERS) !== c) {
      c = Atomics.compareExchange(w, i, 0, me | WAITERS);
      continue;
    }
    Atomics.wait(w, i, c | WAITERS);
    c = Atomics.compareExchange(w, i, 0, me | WAITERS);
  }
}

export function futexUnlockOwned(w, i, me) {
  const c = Atomics.compareExchange(w, i, me, 0);
  if (c === me) return;
  if (c !== (me | WAITERS)) throw new Error('futexUnlockOwned: not the owner');
  Atomics.store(w, i, 0);
  Atomics.notify(w, i, 1);
}
