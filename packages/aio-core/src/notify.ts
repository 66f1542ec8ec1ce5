/**
 * The aio_notify / notify_me / notified protocol on a wake-table slot. Any thread may
 * notify; only the context's home thread polls.
 *
 * Notifier side:  store notified = 1; then if notify_me != 0: set wake = 1, and futex-wake
 *                 if it was 0.
 * Poller side:    notify_me += 2; then if notified (or anything is ready): don't sleep;
 *                 else sleep on `wake` while it is 0; afterwards notify_me -= 2, then accept.
 * All operations are sequentially consistent Atomics, so one of the two always sees the
 * other's write: either the poller sees `notified`, or the notifier sees `notify_me` and
 * wakes the futex. When notify_me is 0 the poller re-reads everything before it would
 * sleep, so the futex write can be skipped (QEMU's invariant).
 */
import { SLOTS, Slot, type WakeTable } from './shared-memory.js';

/** aio_notify on a slot. Any thread. */
export function notifySlot(table: WakeTable, slot: number): void {
  const w = table.words;
  const b = table.base(slot);
  // Pairs with the notify_me increment in the poller (beginWait).
  Atomics.store(w, b + Slot.Notified, 1);
  if (Atomics.load(w, b + Slot.NotifyMe) !== 0) {
    // Level-triggered wake word: stays 1 until the poller accepts it. Only the notifier
    // that turns it from 0 to 1 needs the futex wake: a poller cannot start sleeping
    // while it is 1 (its wait expects 0), and one already asleep is woken by that
    // notifier. Later notifiers skip the system call (many records, one wake-up).
    if (Atomics.exchange(w, b + Slot.Wake, 1) === 0) Atomics.notify(w, b + Slot.Wake);
  }
}

/** aio_notify on every live context of the group (after a dead thread's contexts were reclaimed). Any thread. */
export function notifyAll(table: WakeTable): void {
  for (let slot = 0; slot < SLOTS; slot++) {
    if (table.generation(slot) !== 0) notifySlot(table, slot);
  }
}
