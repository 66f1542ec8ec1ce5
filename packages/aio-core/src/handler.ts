/**
 * Event-notifier handlers of a context (QEMU's AioHandler) and adaptive polling
 * (try_poll_mode, adjust_polling_time, remove_idle_poll_handlers).
 *
 * Every handler is pollable: reading a notifier's shared word costs nothing, so unlike
 * QEMU's poll() monitor no handler disables polling. A handler with `onPoll` is also
 * polled through it, and `onPollReady` runs when `onPoll` reports work.
 *
 * Home thread of the context only.
 */
import type { EventNotifier } from './notifier.js';

/** How long a polled handler may stay idle before it leaves the poll list. */
export const POLL_IDLE_INTERVAL_NS = 7_000_000_000;
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

/** Polling parameters of a context. @internal */
export interface PollParams {
  maxNs: number;
  grow: number;
  shrink: number;
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
export function wordReady(h: Handler): boolean {
  return Atomics.load(h.words, h.index) !== 0;
}
