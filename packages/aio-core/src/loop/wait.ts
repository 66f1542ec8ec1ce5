/**
 * Waiting in a context's loop until a condition turns false (AIO_WAIT_WHILE), and the kick
 * that wakes such a waiter (aio_wait_kick). A waiter counts itself in the slot's `Waiters`
 * word while it polls, so a kick schedules a wake-up BH only where someone waits.
 *
 * Home thread of the context.
 */
import type { FutexOps } from '../locks/futex.js';
import { Slot } from '../base/shared-memory.js';

/** Polls with `pollOnce` while `cond()` holds, counted as a waiter of the slot at `b`; returns whether it polled. */
export function pollWhile(f: FutexOps, b: number, cond: () => boolean, pollOnce: () => void): boolean {
  // Pairs with the load in hasWaiters().
  f.add(b + Slot.Waiters, 1);
  try {
    let waited = false;
    while (cond()) {
      pollOnce();
      waited = true;
    }
    return waited;
  } finally {
    f.sub(b + Slot.Waiters, 1);
  }
}

/** The asynchronous form of pollWhile(). */
export async function pollWhileAsync(f: FutexOps, b: number, cond: () => boolean, pollOnce: () => Promise<unknown>): Promise<boolean> {
  f.add(b + Slot.Waiters, 1);
  try {
    let waited = false;
    while (cond()) {
      await pollOnce();
      waited = true;
    }
    return waited;
  } finally {
    f.sub(b + Slot.Waiters, 1);
  }
}

/** Whether a waiter polls the context of the slot at `b` (aio_wait_kick schedules a BH only then). */
export function hasWaiters(f: FutexOps, b: number): boolean {
  return f.load(b + Slot.Waiters) > 0;
}
