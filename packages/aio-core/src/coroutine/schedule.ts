/**
 * Handing coroutines to contexts: QEMU's aio_co_schedule and aio_co_enter (util/async.c).
 *
 * Owns: each context's list of scheduled coroutines and the bottom half that enters them
 * (co_schedule_bh), and the choice aio_co_enter makes between scheduling, queueing after
 * the running coroutine, and entering now. `Coroutine.wake()` (aio_co_wake) is coEnter
 * on the coroutine's last context. `AioContext.coSchedule()`/`coEnter()` call these.
 *
 * Order: coroutines scheduled on a context are entered in the order they were scheduled,
 * all of them in one bottom-half run; those scheduled meanwhile wait for the next run.
 *
 * The per-context state lives in a WeakMap so that a context carries nothing for
 * coroutines until it is used. Its bottom half, 'co_schedule_bh', is created on the first
 * coSchedule() and kept while coroutines keep coming; a run that leaves the list empty
 * deletes it. So a context with no scheduled coroutine owns no BH and close() has nothing
 * to report, while one still holding a scheduled coroutine reports 'co_schedule_bh' as
 * leaked, which is what it is.
 */
import type { BottomHalf } from '../loop/bh.js';
import { AioContext } from '../loop/context.js';
import { argTypeError } from '../base/errors.js';
import { Coroutine } from './coroutine.js';

/** What a context holds for scheduled coroutines. */
interface ScheduledList {
  /**
   * Pairs (coroutine, its _scheduleSeq when scheduled), oldest first. A pair whose seq no
   * longer matches was cancelled or superseded and is skipped.
   *
   * Cross-thread seam: another thread cannot hold a Coroutine (it lives in this thread's
   * heap), so remote scheduling will push coroutine ids onto a lock-free list in shared
   * memory and schedule this context's BH through its handle, as remote BHs do. The BH
   * then drains that list after the local pairs (see runScheduled) and maps ids back to
   * coroutines. This local list stays as it is.
   */
  queue: (Coroutine<unknown> | number)[];
  /** The BH that drains `queue`, or null while nothing is scheduled. */
  bh: BottomHalf | null;
  /** True while `bh` is scheduled. */
  armed: boolean;
  /** The BH body, bound once per context. */
  readonly run: () => void;
}

const lists = new WeakMap<AioContext, ScheduledList>();

function listOf(ctx: AioContext): ScheduledList {
  let l = lists.get(ctx);
  if (l === undefined) {
    const created: ScheduledList = { queue: [], bh: null, armed: false, run: () => runScheduled(ctx, created) };
    l = created;
    lists.set(ctx, l);
  }
  return l;
}

/** co_schedule_bh_cb: enters everything scheduled so far, oldest first. */
function runScheduled(ctx: AioContext, l: ScheduledList): void {
  l.armed = false;
  const q = l.queue;
  l.queue = [];
  // (Cross-thread: drain the shared-memory list of remotely scheduled coroutines here.)
  let failure: unknown = null;
  for (let i = 0; i < q.length; i += 2) {
    const co = q[i] as Coroutine<unknown>;
    if (co._scheduleSeq !== q[i + 1] || co._scheduled === null) continue;
    co._scheduled = null;
    try {
      co._enterIn(ctx, 'coSchedule() bottom half');
    } catch (e) {
      failure ??= e;
    }
  }
  // (A nested run may have deleted the BH already.)
  if (!l.armed && l.queue.length === 0 && l.bh !== null) {
    l.bh.delete();
    l.bh = null;
  }
  if (failure !== null) throw failure;
}

function checkArgs(ctx: unknown, co: unknown): void {
  if (!(ctx instanceof AioContext)) throw argTypeError('ctx', 'an AioContext', ctx);
  if (!(co instanceof Coroutine)) throw argTypeError('co', 'a Coroutine', co);
}

/**
 * Schedules `co` to be entered by `ctx`'s next poll (aio_co_schedule). Nobody else may
 * enter it until then; it must have yielded, unless `ctx` is the context it runs in (it
 * then yields before the poll gets to it). Throws ERR_AIO_COROUTINE "already scheduled"
 * when it is scheduled already (or queued after a wake-up, or terminated), and
 * ERR_AIO_CLOSED when `ctx` is closed. Home thread of `ctx` (cross-thread scheduling
 * goes through the context's handle).
 */
export function coSchedule(ctx: AioContext, co: Coroutine<unknown>): void {
  checkArgs(ctx, co);
  ctx.assertOpen('coSchedule()');
  co._checkSchedulable('coSchedule()');
  const l = listOf(ctx);
  if (!l.armed) {
    (l.bh ??= ctx.bh(l.run, { name: 'co_schedule_bh' })).schedule();
    l.armed = true;
  }
  co._scheduled = 'coSchedule()';
  l.queue.push(co, ++co._scheduleSeq);
}

/**
 * Restarts `co` in `ctx` (aio_co_enter): if `ctx` is not the current context, schedules
 * it there; else, inside a coroutine, queues it to run when the current one yields or
 * returns (wake-at-next-yield); else enters it now. Throws ERR_AIO_COROUTINE for a
 * coroutine that wakes itself or may not be entered now. This thread.
 */
export function coEnter(ctx: AioContext, co: Coroutine<unknown>): void {
  checkArgs(ctx, co);
  if (ctx !== AioContext.current()) {
    coSchedule(ctx, co);
    return;
  }
  const self = Coroutine.self();
  if (self !== null) co._queueAfter(self, 'coEnter()');
  else co._enterIn(ctx, 'coEnter()');
}
