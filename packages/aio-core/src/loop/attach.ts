/**
 * Running a context inside the host event loop (like attaching QEMU's GSource to a glib
 * main loop): while attached, the context runs asynchronous poll passes one after another,
 * so its work is dispatched without the program calling poll(). It holds the process
 * alive only while it has work that should (timers, handlers, replies awaited), and
 * yields a turn to the host after a run of busy passes so host events are not starved.
 *
 * Home thread of the context.
 */
import { getHost } from '../base/host.js';
import { yieldToHost } from '../base/host-yield.js';
import type { Poller } from './poll.js';

/** How many busy passes an attached context runs before it yields to the host loop. */
const ATTACHED_BUSY_PASSES = 32;

/** Whether, and how, one context runs inside the host loop. */
export class HostLoopAttachment {
  readonly #poller: Poller;
  readonly #hasLiveWork: () => boolean;
  readonly #wanted = (): boolean => this.attached;
  attached = false;
  /** A pass is under way that did not hold the process when it began (it had no live work). */
  #passUnheld = false;
  /** holdWhileAsleep() took a hold for the pass under way; dropped when it ends. */
  #lateHold = false;

  /** `hasLiveWork` says whether the context has work that should hold the process now. */
  constructor(poller: Poller, hasLiveWork: () => boolean) {
    this.#poller = poller;
    this.#hasLiveWork = hasLiveWork;
  }

  /** Starts the loop unless it runs. */
  attach(): void {
    if (this.attached) return;
    this.attached = true;
    void this.#run();
  }

  /**
   * Stops the loop: a pass asleep now returns without dispatching (the caller wakes it
   * with a notify), so nothing is dispatched after detach().
   */
  detach(): boolean {
    if (!this.attached) return false;
    this.attached = false;
    return true;
  }

  /**
   * Work that should hold the process appeared without a wake-up (a call whose reply will
   * land here): if the pass under way began without holding the process, hold it until
   * that pass ends; the next pass holds it by itself. Waking the pass instead would cost
   * every call a pass.
   */
  holdWhileAsleep(): void {
    if (!this.#passUnheld || this.#lateHold) return;
    this.#lateHold = true;
    getHost().ref();
  }

  async #run(): Promise<void> {
    let busy = 0;
    while (this.attached && !this.#poller.closed) {
      const hold = this.#hasLiveWork();
      this.#passUnheld = !hold;
      try {
        const progress = await this.#poller.pollAsync(hold, this.#wanted);
        busy = progress ? busy + 1 : 0;
      } catch (err) {
        // Like an exception in a host timer callback: report it, keep the loop running.
        queueMicrotask(() => {
          throw err;
        });
      } finally {
        this.#passUnheld = false;
        if (this.#lateHold) {
          this.#lateHold = false;
          getHost().unref();
        }
      }
      if (busy >= ATTACHED_BUSY_PASSES) {
        busy = 0;
        await yieldToHost();
      }
    }
  }
}
