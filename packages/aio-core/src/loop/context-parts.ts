/**
 * What a context is made of, checked and wired for its constructor (context.ts): its
 * options, then the BH list, the timer lists of the three clocks, the handlers with the
 * context's own notifier, the spin for replies, the poll passes and the host-loop
 * attachment.
 *
 * Owns: which part is given which other part. Home thread of the context.
 */
import { HostLoopAttachment } from './attach.js';
import type { BhOwner } from './bh.js';
import { BhList } from './bh-list.js';
import { CLOCK_ORDER, type ClockType } from './clock.js';
import type { ContextLock } from './context-lock.js';
import type { AioContextOptions } from './context-options.js';
import { checkBoolean, checkInteger, checkOptions, checkString } from '../base/errors.js';
import type { FaultReports } from './faults.js';
import type { FutexOps } from '../locks/futex.js';
import { HandlerSet, type PollParams, checkPollParams, newHandler } from './handler.js';
import { clearWake, notifyPending } from './notify.js';
import { type ContextIntake, type DispatchingNow, Poller } from './poll.js';
import { REPLY_POLL_MAX_NS_DEFAULT, ReplyPoll } from './reply-poll.js';
import { Slot, type WakeTable } from '../base/shared-memory.js';
import { type ArmedTimers, TimerList, type TimerOwner } from './timer.js';

/** A context's options, checked, with their defaults. */
export interface ContextSettings {
  name: string;
  params: PollParams;
  timing: boolean;
  replyPollMaxNs: number;
}

/** Checks `options` of `new AioContext()` (naming the bad one) and fills in the defaults; `defaultName` unless named. */
export function contextSettings(options: AioContextOptions | undefined, defaultName: () => string): ContextSettings {
  checkOptions('options', options);
  const name = options?.name ?? defaultName();
  checkString('options.name', name);
  const params = checkPollParams(['options.pollMaxNs', 'options.pollGrow', 'options.pollShrink'], options?.pollMaxNs ?? 0, options?.pollGrow ?? 0, options?.pollShrink ?? 0);
  if (options?.timing !== undefined) checkBoolean('options.timing', options.timing);
  const replyPollMaxNs = options?.replyPollMaxNs ?? REPLY_POLL_MAX_NS_DEFAULT;
  checkInteger('options.replyPollMaxNs', replyPollMaxNs, 0, Number.MAX_SAFE_INTEGER);
  return { name, params, timing: options?.timing ?? false, replyPollMaxNs };
}

/** What the context gives its parts: itself, its slot and words, its lock and fault reports. */
export interface ContextCore {
  readonly owner: BhOwner & TimerOwner;
  /** The context dispatching in this thread now. */
  readonly dispatching: DispatchingNow;
  readonly table: WakeTable;
  readonly slot: number;
  /** Whether another thread may know the slot (ContextBase._exposure). */
  readonly exposure: { readonly exposed: boolean };
  readonly ops: FutexOps;
  readonly base: number;
  readonly lock: ContextLock;
  readonly faults: FaultReports;
  /** Work from other threads (ContextExtensions.intake). */
  readonly intake: ContextIntake;
  badRecord(problem: string): void;
  /** Whether the context has work that should hold the process now. */
  hasLiveWork(): boolean;
}

/** The parts of one context. */
export interface ContextParts {
  readonly bhs: BhList;
  readonly timers: Record<ClockType, TimerList>;
  readonly armedTimers: Readonly<ArmedTimers>;
  readonly handlers: HandlerSet;
  readonly replies: ReplyPoll;
  readonly poller: Poller;
  readonly hostLoop: HostLoopAttachment;
}

/** Builds the parts of a context from its core and settings. */
export function buildContextParts(core: ContextCore, settings: ContextSettings): ContextParts {
  const { ops, base: b } = core;
  const bhs = new BhList(ops, b + Slot.RemoteBhHead);
  const armedTimers: ArmedTimers = { count: 0 };
  const timers = {
    realtime: new TimerList(core.owner, 'realtime', armedTimers),
    virtual: new TimerList(core.owner, 'virtual', armedTimers),
    host: new TimerList(core.owner, 'host', armedTimers),
  };
  // The context's own notifier: ready when a notify woke (or would wake) a sleeper, and it
  // clears the wake word when dispatched; busy polling stops at a pending notify.
  const own = newHandler(null, core.table.words, b + Slot.Wake, () => clearWake(ops, b), () => notifyPending(ops, b), () => {}, false);
  const handlers = new HandlerSet(own, settings.params);
  const replies = new ReplyPoll(settings.replyPollMaxNs);
  const poller = new Poller({
    owner: core.owner,
    dispatching: core.dispatching,
    table: core.table,
    slot: core.slot,
    exposure: core.exposure,
    ops,
    base: b,
    bhs,
    handlers,
    timers: CLOCK_ORDER.map((clock) => timers[clock]),
    armedTimers,
    intake: core.intake,
    faults: core.faults,
    lock: core.lock,
    replies,
    timing: settings.timing,
    badRecord: core.badRecord,
  });
  return { bhs, timers, armedTimers, handlers, replies, poller, hostLoop: new HostLoopAttachment(poller, core.hasLiveWork) };
}
