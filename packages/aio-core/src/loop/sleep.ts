/**
 * How a context sleeps on its wake word until a notify, or a deadline, in both forms: a
 * blocking wait (Atomics.wait, which a browser window may not use) and an asynchronous
 * one that lets the host loop run meanwhile. The wake word is set and notified by
 * notify() (notify.ts), which pairs with these waits.
 *
 * Home thread of the context.
 */
import { getHost } from '../base/host.js';

/** Milliseconds for a futex wait; -1 (infinite) becomes Infinity. */
function waitMs(timeoutNs: number): number {
  return timeoutNs < 0 ? Infinity : timeoutNs / 1e6;
}

/** Sleeps while `words[index]` is 0, for at most `timeoutNs` (-1: no limit). Blocks the thread. */
export function sleep(words: Int32Array, index: number, timeoutNs: number): void {
  Atomics.wait(words, index, 0, waitMs(timeoutNs));
}

/**
 * Waits while `words[index]` is 0, for at most `timeoutNs` (-1: no limit), without
 * blocking: Atomics.waitAsync where the runtime has it, else a look every millisecond.
 * With `keepAlive` the process stays alive meanwhile (no runtime counts a pending waitAsync).
 * Returns early when `restart` settles.
 */
export async function sleepAsync(words: Int32Array, index: number, timeoutNs: number, keepAlive: boolean, restart: Promise<void>): Promise<void> {
  const host = getHost();
  const ms = waitMs(timeoutNs);
  if (keepAlive) host.ref();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const waits: Promise<unknown>[] = [restart];
    // Where the host says waitAsync timeouts fire late, a host timer bounds the wait too. Not
    // elsewhere: browsers clamp a host timer armed from a timer task to 4 ms, which
    // would stretch every short aio timer.
    if (ms !== Infinity && host.waitAsyncTimeoutsLate) waits.push(new Promise<void>((r) => (timer = setTimeout(r, Math.ceil(ms)))));
    if (typeof Atomics.waitAsync === 'function') {
      const r = Atomics.waitAsync(words, index, 0, ms);
      if (!r.async) return;
      waits.push(r.value);
    } else {
      waits.push(pollWord(words, index, ms));
    }
    await Promise.race(waits);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (keepAlive) host.unref();
  }
}

/** Fallback for runtimes without Atomics.waitAsync: look at the wake word every 1 ms. */
async function pollWord(words: Int32Array, index: number, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (Atomics.load(words, index) === 0 && performance.now() < end) {
    await new Promise<void>((r) => setTimeout(r, 1));
  }
}
