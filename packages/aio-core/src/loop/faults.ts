/**
 * The faults a context survives and reports: a malformed record it dropped
 * (ERR_AIO_BAD_RECORD), a oneshot it sent that failed where nobody waits for it
 * (ERR_AIO_REQUEST_FAILED). Each is counted when reported and handed to the context's
 * error handler in its next BH phase, as a oneshot BH, so a handler runs where callbacks
 * run and one that throws cannot lose the work taken with it. Without a handler the
 * first fault is logged and the rest only counted.
 *
 * Home thread of the context.
 */
import { BH_ONESHOT, BH_PENDING, BH_SCHEDULED, type BhOwner, BottomHalf } from './bh.js';
import type { AioError } from '../base/errors.js';

/**
 * Told, in the context's poll, of a fault the context survived: a malformed record or
 * message from another thread that it dropped (ERR_AIO_BAD_RECORD), or a oneshot it sent
 * that failed where nobody waits for it (ERR_AIO_REQUEST_FAILED). The error's message
 * names the context and says what was wrong.
 */
export type AioErrorHandler = (err: AioError) => void;

/** The fault reports of one context. @internal */
export class FaultReports {
  #handler: AioErrorHandler | null = null;
  /** Reported, waiting for the next BH phase. */
  #waiting: AioError[] | null = null;
  /** True once a fault was logged for want of a handler: later ones are only counted. */
  #logged = false;
  /** Faults reported. */
  count = 0;

  setHandler(handler: AioErrorHandler | null): void {
    this.#handler = handler;
  }

  /** Counts `err` and keeps it for the next BH phase. */
  add(err: AioError): void {
    this.count++;
    (this.#waiting ??= []).push(err);
  }

  /** Whether reports wait for the next BH phase. */
  get waiting(): boolean {
    return this.#waiting !== null;
  }

  /** Adds a oneshot BH of `owner` per waiting report to the slice, to run in the order they came. */
  take(owner: BhOwner, into: BottomHalf[]): void {
    const faults = this.#waiting;
    if (faults === null) return;
    this.#waiting = null;
    for (let i = faults.length - 1; i >= 0; i--) {
      const err = faults[i]!;
      into.push(new BottomHalf(owner, () => this.#deliver(err), 'aio-fault', BH_PENDING | BH_SCHEDULED | BH_ONESHOT));
    }
  }

  /** Drops the waiting reports (the context closes). */
  clear(): void {
    this.#waiting = null;
  }

  #deliver(err: AioError): void {
    if (this.#handler) {
      this.#handler(err);
      return;
    }
    if (this.#logged) return;
    this.#logged = true;
    console.error(`aio: ${err.code}: ${err.message} (later faults of this context are counted in stats().faults, not logged; see setErrorHandler())`);
  }
}
