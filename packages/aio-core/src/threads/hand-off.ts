/**
 * Cross-thread hand-offs: a lock that a thread hands straight to a waiter in another
 * thread's context (QEMU's CoMutex hand-off, whose aio_co_wake reaches a coroutine of
 * another AioContext). The waiter registers here and gets an id; the thread that hands
 * the lock over sends a HANDOFF record with that id to the waiter's context, whose intake
 * passes it here, in that context's poll. A shared CoMutex (coroutine/shared-co-mutex.ts)
 * keeps the id and the context's slot in its waiter queue.
 *
 * Waiters are per thread, like pending calls, and take their ids from the same counter
 * (calls.ts), unique in the thread group: a hand-off never reaches a call, nor a call's
 * reply a waiter. Each waiter counts as a reply its context expects, so the context is
 * polled (and holds the process) until the lock arrives.
 */
import { AioContext } from '../loop/context.js';
import { AioError } from '../base/errors.js';
import { foreignMemory } from './calls.js';
import { HANDOFF, type HandOffRecord } from './messages.js';
import { type RecordTarget, sendRecord } from './outbox.js';
import type { WakeTable } from '../base/shared-memory.js';

/**
 * Told, in the waiter's context's poll, that the lock is its own: true when it was taken
 * over from a holder that died. Or told the error when no hand-off can come (the context
 * is closing); the waiter must then take itself out of the lock's queue, or pass the lock
 * on if it was handed over meanwhile.
 */
export type HandOffCallback = (outcome: boolean | Error) => void;

interface Waiter {
  done: HandOffCallback;
  context: AioContext;
  /** What waits, for errors ('CoMutex.lock()'). */
  what: string;
}

const waiters = new Map<number, Waiter>();

/**
 * Registers a waiter of the current context for a lock of `table`'s thread group; `done`
 * runs in that context's poll when the HANDOFF record with the returned id arrives. Throws
 * ERR_AIO_FOREIGN_MEMORY when the current context is in another group's table. Any thread.
 * @internal
 */
export function expectHandOff(table: WakeTable, what: string, done: HandOffCallback): { id: number; context: AioContext } {
  const context = AioContext.current();
  if (context._table.id !== table.id) throw foreignMemory(what, context);
  const id = table.nextRecordId();
  waiters.set(id, { done, context, what });
  context._expectReplies(1);
  return { id, context };
}

/** Forgets a waiter that left the lock's queue: no hand-off will come. This thread. @internal */
export function forgetHandOff(id: number): void {
  const waiter = waiters.get(id);
  if (!waiter) return;
  waiters.delete(id);
  waiter.context._expectReplies(-1);
}

/**
 * Hands the lock to waiter `id` of the context `to` names. Any thread.
 * @internal
 */
export function sendHandOff(to: RecordTarget, id: number, ownerDied: boolean): void {
  // Three numbers: JSON always carries them, so this cannot be refused (a full inbox
  // keeps the record in this thread's outbox).
  sendRecord(to, [HANDOFF, id, ownerDied ? 1 : 0]);
}

/**
 * Gives the waiter its lock (a HANDOFF record its context received). One for no waiter
 * of this thread (it was failed when its context closed) is ignored. Home thread of the
 * waiter's context, in its poll. @internal
 */
export function receiveHandOff(record: HandOffRecord): void {
  const waiter = waiters.get(record[1]);
  if (!waiter) return;
  waiters.delete(record[1]);
  waiter.context._expectReplies(-1);
  waiter.done(record[2] === 1);
}

/**
 * Fails every waiter of `ctx`, which is closing: a hand-off still on its way (or unread in
 * its inbox) will not be run. Home thread of `ctx`. @internal
 */
export function failHandOffsTo(ctx: AioContext): void {
  for (const [id, waiter] of waiters) {
    if (waiter.context !== ctx) continue;
    waiters.delete(id);
    waiter.done(new AioError('ERR_AIO_CLOSED', `${waiter.what}: the waiter's context '${ctx.name}' was closed before the lock was handed over`));
  }
}
