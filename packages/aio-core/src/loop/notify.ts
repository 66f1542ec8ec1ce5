/**
 * The wake protocol of a context (QEMU's aio_notify / notify_me / notified), both sides,
 * written once against `FutexOps` on the words of a wake-table slot, so that the poll runs
 * it on real memory (`LoopAtomicsOps`) and the model checker runs the same code
 * (test/conformance/locks/model-wake.test.ts).
 *
 * Words of the slot (shared-memory.ts `Slot`): `NotifyMe` counts pollers about to sleep,
 * in steps of 2; `Notified` says a notify happened since the poller last accepted one;
 * `Wake` is the futex word the poller sleeps on (level-triggered: 1 until the poller's own
 * notifier handler clears it).
 *
 *   notifier (any thread)             poller (home thread)
 *   store Notified = 1                 NotifyMe += 2                (announceSleep)
 *   if NotifyMe != 0:                  if Notified or work: don't sleep
 *     if exchange(Wake, 1) == 0:       else sleep while Wake == 0
 *       futex-wake Wake                NotifyMe -= 2                (withdrawSleep)
 *                                      clear Notified, then run work (acceptNotify;
 *                                      without a notify, no remote work to look at)
 *                                      own handler: Wake = 0        (clearWake)
 *
 * Every operation is a sequentially consistent atomic, so of the notifier's store of
 * Notified and the poller's increment of NotifyMe, whichever comes second sees the other:
 * either the poller sees Notified and does not sleep, or the notifier sees NotifyMe and
 * sets Wake, which a sleeping poller wakes on and a poller about to sleep sees (its wait
 * expects 0). When NotifyMe is 0 nobody is about to sleep, and every poller re-reads
 * Notified after its increment, so the notifier may skip the futex word (QEMU's
 * invariant). The poller accepts (clears Notified) before it looks at the work, so a
 * notify for work added after that look is never cleared unseen.
 */
import { LoopAtomicsOps } from '../locks/atomics-ops.js';
import type { FutexOps } from '../locks/futex.js';
import { SLOTS, Slot, type WakeTable } from '../base/shared-memory.js';

/** aio_notify on the slot whose first word is `b`. Any thread. */
export function notifyWake(f: FutexOps, b: number): void {
  // Pairs with the add in announceSleep().
  f.store(b + Slot.Notified, 1);
  if (f.load(b + Slot.NotifyMe) !== 0) {
    // Only the notifier that turns Wake from 0 to 1 needs the futex wake: a poller cannot
    // start sleeping while it is 1, and one already asleep is woken by that notifier.
    // Later notifiers skip the system call (many records, one wake-up). Pairs with the
    // store in clearWake() and with the poller's wait on Wake.
    if (f.exchange(b + Slot.Wake, 1) === 0) f.notify(b + Slot.Wake, Infinity);
  }
}

/**
 * Announces that the poller may sleep (notify_me += 2); returns whether a notify is
 * already pending, in which case it must not sleep. Pairs with the store of Notified in
 * notifyWake(). Home thread of the slot's context.
 */
export function announceSleep(f: FutexOps, b: number): boolean {
  f.add(b + Slot.NotifyMe, 2);
  return f.load(b + Slot.Notified) !== 0;
}

/** Withdraws an announceSleep() once the poller is awake (or chose not to sleep). Home thread. */
export function withdrawSleep(f: FutexOps, b: number): void {
  f.sub(b + Slot.NotifyMe, 2);
}

/**
 * aio_notify_accept: clears Notified, before the poller looks at the work, so that a
 * notify for work added after that look stays pending. Returns whether a notify was
 * pending: when none was, no other thread published work since the last accept (every
 * publisher notifies after it publishes), and the pass may skip looking at what only other
 * threads add (the inbox ring, the remote BH list, ended contexts). The load first spares
 * the costlier store when nothing notified. Pairs with the store in notifyWake(). Home
 * thread.
 */
export function acceptNotify(f: FutexOps, b: number): boolean {
  if (f.load(b + Slot.Notified) === 0) return false;
  f.store(b + Slot.Notified, 0);
  return true;
}

/**
 * Whether a notify is pending, not yet accepted: what the context's own notifier reports
 * to busy polling (aio_context_notifier_poll), so polling stops at a notify. Home thread.
 */
export function notifyPending(f: FutexOps, b: number): boolean {
  return f.load(b + Slot.Notified) !== 0;
}

/**
 * The context's own notifier handler (event_notifier_test_and_clear): clears the futex
 * word once the wake-up it carried was taken. Pairs with the exchange in notifyWake().
 * Home thread.
 */
export function clearWake(f: FutexOps, b: number): void {
  f.store(b + Slot.Wake, 0);
}

/** The table whose operations `opsOf()` returned last (a thread group has one table). */
let lastTable: WakeTable | null = null;
let lastOps: LoopAtomicsOps | null = null;

/** `LoopAtomicsOps` over the words of `table`, made once per table. Any thread. */
export function opsOf(table: WakeTable): LoopAtomicsOps {
  if (table !== lastTable) {
    lastOps = new LoopAtomicsOps(table.words);
    lastTable = table;
  }
  return lastOps!;
}

/** aio_notify on a slot of `table`, from any thread that holds the table. */
export function notifySlot(table: WakeTable, slot: number): void {
  notifyWake(opsOf(table), table.base(slot));
}

/** aio_notify on every live context of the group (after a dead thread's contexts were reclaimed). Any thread. */
export function notifyAll(table: WakeTable): void {
  for (let slot = 0; slot < SLOTS; slot++) {
    if (table.generation(slot) !== 0) notifySlot(table, slot);
  }
}
