/**
 * The event-notifier handlers of a context and adaptive polling: QEMU's aio-posix.c part of
 * the loop (AioHandler, the readiness scan, dispatching ready handlers, try_poll_mode,
 * adjust_polling_time, remove_idle_poll_handlers, disabled external clients).
 *
 * Every handler is pollable: reading a notifier's shared word costs nothing, so unlike
 * QEMU's poll() monitor no handler disables polling. A handler with `onPoll` is also
 * polled through it, and `onPollReady` runs when `onPoll` reports work.
 *
 * Home thread of the context only.
 */
import { AioError, checkInteger, checkNumber } from '../base/errors.js';
import { getHost } from '../base/host.js';
import type { EventNotifier } from './notifier.js';
import { soonest } from '../base/timeouts.js';

/** How long a polled handler may stay idle before it leaves the poll list. */
const POLL_IDLE_INTERVAL_NS = 7_000_000_000;
/** First polling time once a handler starts being polled (QEMU: 4 us). */
export const POLL_START_NS = 4_000;

/** One registered event source. @internal */
export interface Handler {
  readonly notifier: EventNotifier | null;
  /** The notifier's value word (or the context's wake word for the context's own notifier). */
  readonly words: Int32Array;
  readonly index: number;
  readonly onRead: () => void;
  readonly onPoll: (() => boolean) | null;
  readonly onPollReady: (() => void) | null;
  /** Skipped while the context's external clients are disabled. */
  readonly external: boolean;
  /** The context's own notifier: its dispatch is never progress. */
  readonly own: boolean;
  deleted: boolean;
  /** Found ready by the readiness scan (word set): run onRead. */
  readReady: boolean;
  /** Found ready by onPoll during busy polling: run onPollReady. */
  pollReady: boolean;
  /** Current adaptive polling time in ns (AioPolledEvent.ns). */
  pollNs: number;
  /** In the context's poll list (QLIST_IS_INSERTED(node, node_poll)). */
  inPollList: boolean;
  /** When the handler leaves the poll list if it stays idle (0 = not set). */
  pollIdleUntil: number;
}

/** A handler with nothing found ready yet and no polling time. @internal */
export function newHandler(
  notifier: EventNotifier | null,
  words: Int32Array,
  index: number,
  onRead: () => void,
  onPoll: (() => boolean) | null,
  onPollReady: (() => void) | null,
  external: boolean,
): Handler {
  return {
    notifier,
    words,
    index,
    onRead,
    onPoll,
    onPollReady,
    external,
    own: notifier === null,
    deleted: false,
    readReady: false,
    pollReady: false,
    pollNs: 0,
    inPollList: false,
    pollIdleUntil: 0,
  };
}

/** Polling parameters of a context. @internal */
export interface PollParams {
  maxNs: number;
  grow: number;
  shrink: number;
}

/**
 * Checks polling parameters given by a caller, `names` naming the arguments (maximum,
 * grow, shrink); returns them. Throws, naming the
 * argument, on a bad value.
 */
export function checkPollParams(names: readonly [string, string, string], maxNs: number, grow: number, shrink: number): PollParams {
  checkInteger(names[0], maxNs, 0, Number.MAX_SAFE_INTEGER);
  checkNumber(names[1], grow, 0);
  checkNumber(names[2], shrink, 0);
  return { maxNs, grow, shrink };
}

/**
 * Adapts a handler's polling time after a dispatch, given how long the poll blocked
 * (adjust_polling_time): unchanged when polling already covered the wait; shrink when
 * the wait was beyond the maximum; otherwise grow from 4 us towards the maximum.
 */
export function adjustPollingTime(h: Handler, params: PollParams, blockNs: number): void {
  if (blockNs <= h.pollNs) return;
  if (blockNs > params.maxNs) {
    h.pollNs = params.shrink === 0 ? 0 : Math.floor(h.pollNs / params.shrink);
    return;
  }
  if (h.pollNs < params.maxNs && blockNs < params.maxNs) {
    const grow = params.grow || 2;
    h.pollNs = h.pollNs === 0 ? POLL_START_NS : h.pollNs * grow;
    if (h.pollNs > params.maxNs) h.pollNs = params.maxNs;
  }
}

/** True when the handler has work visible without a callback: its word is set. */
function wordReady(h: Handler): boolean {
  return Atomics.load(h.words, h.index) !== 0;
}

/** What a poll pass shares with the handler phase: its timeout (ns, -1 infinite) and the handlers found ready. @internal */
export interface ReadyScan {
  timeout: number;
  /** NONE_READY until a handler is found ready: most passes find none, and allocate nothing. */
  ready: Handler[];
}

/** The `ready` of a scan that found no handler ready yet; never written. @internal */
export const NONE_READY: Handler[] = Object.freeze([]) as unknown as Handler[];

/** Adds `h` to the handlers `scan` found ready. */
function markReady(scan: ReadyScan, h: Handler): void {
  if (scan.ready === NONE_READY) scan.ready = [h];
  else scan.ready.push(h);
}

/**
 * The handlers of one context, its own notifier's first, with its poll list and polling
 * parameters. The list is copied on write, so a walk survives changes made by callbacks.
 * @internal
 */
export class HandlerSet {
  #list: Handler[];
  readonly #byNotifier = new Map<EventNotifier, Handler>();
  #pollList: Handler[] = [];
  readonly params: PollParams;
  #externalDisabled = 0;
  /** Dispatches of handlers other than the context's own notifier. */
  dispatches = 0;
  /** Time spent busy polling, in ns. */
  pollingNs = 0;

  constructor(own: Handler, params: PollParams) {
    this.#list = [own];
    this.params = params;
  }

  /** Whether handlers other than the context's own notifier are registered. */
  get hasUserHandlers(): boolean {
    return this.#list.length > 1;
  }

  /**
   * aio_set_event_notifier for the context named `owner` in slot `slot` of the table with
   * id `tableId`: registers the handler made by `make` for `e`, replacing its handler, or
   * removes it (`make` null). Throws, changing nothing, when `e` lives in another table
   * or is registered with another context. Returns whether anything changed.
   */
  set(e: EventNotifier, make: (() => Handler) | null, owner: string, tableId: number, slot: number): boolean {
    const old = this.#byNotifier.get(e);
    if (make === null) {
      if (!old) return false;
      this.#remove(old);
      e._link(0);
      return true;
    }
    if (!old) {
      if (e._table.id !== tableId) {
        throw new AioError('ERR_AIO_FOREIGN_MEMORY', `AioContext '${owner}': the notifier comes from another thread group's shared memory`);
      }
      if (!e._link(slot + 1)) {
        throw new AioError('ERR_AIO_NOTIFIER_BUSY', `AioContext '${owner}': the notifier is registered with another context`);
      }
    }
    if (old) this.#remove(old);
    const h = make();
    this.#list = [...this.#list, h];
    this.#byNotifier.set(e, h);
    return true;
  }

  #remove(h: Handler): void {
    h.deleted = true;
    this.#byNotifier.delete(h.notifier!);
    this.#list = this.#list.filter((x) => x !== h);
    h.inPollList = false;
    this.#pollList = this.#pollList.filter((x) => x !== h);
  }

  /** Removes every handler and unlinks its notifier (the context closes). */
  clear(): void {
    for (const h of this.#list) if (h.notifier) h.notifier._link(0);
    this.#list = [];
    this.#byNotifier.clear();
    this.#pollList = [];
  }

  /** Sets the polling parameters and resets every handler's polling time. */
  setParams(params: PollParams): void {
    Object.assign(this.params, params);
    for (const h of this.#list) h.pollNs = 0;
  }

  /** aio_disable_external: nests. */
  disableExternal(): void {
    this.#externalDisabled++;
  }

  /** Ends one disableExternal() (one is in effect); returns whether external clients run again. */
  enableExternal(): boolean {
    return --this.#externalDisabled === 0;
  }

  get externalDisabled(): boolean {
    return this.#externalDisabled > 0;
  }

  #dispatchable(h: Handler): boolean {
    return !h.deleted && !(h.external && this.#externalDisabled > 0);
  }

  /**
   * The readiness scan (the ppoll of QEMU's fd monitor): handlers whose word is set;
   * `withOwn` false leaves out the context's own notifier (a pass that will not sleep).
   */
  collectReady(scan: ReadyScan, withOwn = true): void {
    const list = this.#list;
    // The own notifier is first (the constructor puts it there, the rest are appended), so
    // a scan without it starts after it: a pass with only BHs to run loops over nothing.
    for (let i = withOwn ? 0 : 1; i < list.length; i++) {
      const h = list[i]!;
      if (!h.readReady && this.#dispatchable(h) && wordReady(h)) {
        h.readReady = true;
        if (!h.pollReady) markReady(scan, h);
      }
    }
  }

  /** Runs the ready handlers; `blockNs` is how long the poll blocked (adaptive polling). Returns progress. */
  dispatchReady(ready: Handler[], blockNs: number): boolean {
    let progress = false;
    for (const h of ready) {
      const viaRead = h.readReady;
      const viaPoll = h.pollReady;
      h.readReady = false;
      h.pollReady = false;
      if (!this.#dispatchable(h)) continue;
      if (viaRead) {
        h.onRead();
        // A handler that fired through its word becomes a polling candidate.
        if (!h.inPollList && !h.deleted) {
          h.inPollList = true;
          this.#pollList = [...this.#pollList, h];
        }
      } else if (viaPoll && h.onPollReady) {
        // Leave the poll list during the callback, so a nested poll does not poll it again.
        h.inPollList = false;
        h.onPollReady();
        h.inPollList = !h.deleted;
      }
      if (!h.own) {
        progress = true;
        this.dispatches++;
      }
      if (this.params.maxNs > 0 && h.inPollList) adjustPollingTime(h, this.params, blockNs);
    }
    return progress;
  }

  /** One round of busy polling: returns true if a non-own handler had work. */
  #pollOnce(scan: ReadyScan, now: number): boolean {
    let progress = false;
    for (const h of this.#pollList) {
      if (!h.inPollList || !this.#dispatchable(h)) continue;
      const viaWord = !h.own && wordReady(h);
      const viaPoll = !viaWord && h.onPoll !== null && h.onPoll();
      if (!viaWord && !viaPoll) continue;
      if (!h.readReady && !h.pollReady) markReady(scan, h);
      if (viaWord) h.readReady = true;
      else h.pollReady = true;
      h.pollIdleUntil = now + POLL_IDLE_INTERVAL_NS;
      scan.timeout = 0;
      if (!h.own) progress = true;
    }
    return progress;
  }

  /** try_poll_mode: busy-polls the poll list for up to the largest handler polling time. */
  tryPollMode(scan: ReadyScan): boolean {
    if (this.#pollList.length === 0 || this.params.maxNs === 0) return false;
    let maxNs = 0;
    for (const h of this.#pollList) if (h.pollNs > maxNs) maxNs = h.pollNs;
    maxNs = soonest(scan.timeout, maxNs);
    if (maxNs === 0) return false;
    const host = getHost();
    const start = host.nowNs();
    let now = start;
    let progress = false;
    do {
      progress = this.#pollOnce(scan, now);
      now = host.nowNs();
    } while (scan.timeout !== 0 && now - start < maxNs);
    this.#removeIdlePollHandlers(now);
    this.pollingNs += now - start;
    if (scan.timeout > 0) scan.timeout = Math.max(0, scan.timeout - (now - start));
    return progress;
  }

  #removeIdlePollHandlers(now: number): void {
    let removed = false;
    for (const h of this.#pollList) {
      if (h.pollIdleUntil === 0) h.pollIdleUntil = now + POLL_IDLE_INTERVAL_NS;
      else if (now >= h.pollIdleUntil) {
        h.pollIdleUntil = 0;
        h.inPollList = false;
        removed = true;
      }
    }
    if (removed) this.#pollList = this.#pollList.filter((h) => h.inPollList);
  }
}
