// The shared counter of the browser example and the loop that increments it.
//
// Owns: the layout of the shared words, and the increment loop that every participant
// (each IOThread, and the page's main thread) runs as a coroutine in its own AioContext.
import { Clock, SCALE_MS, sleep } from 'aio-browser';

export const MAX_THREADS = 8;
/** 1 while the participants should keep incrementing; at 0 each finishes its batch and ends. */
export const RUN = 0;
/** The counter they all increment, with a plain (non-atomic) read-modify-write. */
export const COUNTER = 1;
/** Increments done by the page's main thread; thread i's are at FIRST_THREAD + i. */
export const PAGE = 2;
export const FIRST_THREAD = 3;
const WORDS = FIRST_THREAD + MAX_THREADS;

/** The shared words; 64-bit, so the counters cannot wrap however long the page runs. */
export function sharedWords() {
  return new BigInt64Array(new SharedArrayBuffer(WORDS * BigInt64Array.BYTES_PER_ELEMENT));
}

const BATCH = 200;
// A pause between batches lets the participant's loop serve calls and the page repaint.
const PAUSE_NS = 1 * SCALE_MS;

/**
 * A coroutine body (for `Coroutine.create`) that takes `mutex` for every increment of
 * COUNTER and of its own `slot` until RUN drops to 0. Both words change under the mutex,
 * so whoever holds it sees COUNTER equal to the sum of every slot; without the lock,
 * increments would get lost.
 */
export function* incrementWhileRunning(mutex, words, slot) {
  while (Atomics.load(words, RUN) === 1n) {
    for (let i = 0; i < BATCH; i++) {
      yield* mutex.lock();
      words[COUNTER] += 1n;
      words[slot] += 1n;
      mutex.unlock();
    }
    yield* sleep(Clock.Realtime, PAUSE_NS);
  }
}
