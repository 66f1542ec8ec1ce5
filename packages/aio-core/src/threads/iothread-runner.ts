/**
 * IOThread, the thread's own side (QEMU's iothread_run): receives its start message,
 * creates its context and makes it the thread's home context, loads the module and runs
 * `setup(ctx)`, reports ready, and runs the loop until a stop record arrives. Adapters call
 * `runIOThread` from their worker entry with the channel to the parent.
 *
 * Promises in a dedicated loop: the loop sleeps in Atomics.wait, where no microtask or
 * host task runs. So after every poll pass that dispatched something it lets the
 * reactions that pass queued run, and before it sleeps it gives the host loop a turn
 * (every microtask runs, then pending host events) and looks for work once more, unless
 * it gave one less than a millisecond ago; while something waits on a host event (an
 * async function a call started, a promise a coroutine awaits, a worker starting) it
 * wakes every millisecond to give the host a turn. A turn before every sleep cost each
 * round trip 2-3 us (a BH ping-pong: 8-10 us before, 11-13 with the turn; node); a capped
 * sleep before the turn instead cost 30 % of the throughput of 20,000 calls in flight on
 * two pool workers.
 *
 * Runs in the IOThread.
 */
import { markNotMainThread } from '../loop/context-lock.js';
import { AioContext } from '../loop/context.js';
import { OwnerDiedError, describeValue } from '../base/errors.js';
import { type ThreadChannel, type ThreadExit, describeExit, getHost } from '../base/host.js';
import { hostEventsExpected, hostTurnsWanted, yieldToHost } from '../base/host-yield.js';
import { type IOThreadInit, type IOThreadMessage, iothreadEpitaph } from './iothread-protocol.js';
import { setThreadId } from '../locks/thread-id.js';
import { RESULT, type ResultRecord, errorData, errorFrom } from './messages.js';
import { buryThread } from './start-worker.js';
import { flushOutbox, outboxPending, sendRecord, unsendable } from './outbox.js';
import { intakeOf } from './record-intake.js';
import { adoptWakeTable } from '../base/shared-memory.js';

/** How often a dedicated loop lets the host run while something waits on a host event. */
const HOST_TICK_NS = 1_000_000;
/** How long a dedicated loop waits for port messages the parent announced before it gives up. */
const PORT_WAIT_NS = 1_000_000_000;
/** How long the end of a stopping loop waits between tries to deliver replies still waiting for room. */
const FLUSH_RETRY_MS = 1;

/**
 * The loop's answer to OwnerDiedError from its own context lock: it holds the lock now
 * and goes on (the takeover is counted, see context-lock.ts); anything else is rethrown.
 */
function takenOver(err: unknown): void {
  if (!(err instanceof OwnerDiedError)) throw err;
}

function takeOver(acquire: () => void): void {
  try {
    acquire();
  } catch (err) {
    takenOver(err);
  }
}

type ThreadModule = { setup?: (ctx: AioContext) => unknown; teardown?: (ctx: AioContext) => unknown };

/**
 * Runs an IOThread on `channel`: waits for the start message, sets up `loaded` (modules
 * the thread's entry imported itself), loads the modules the start message lists with
 * `importModule` (given each URL and its index) and sets them up, then loops. IOThread only.
 */
export async function runIOThread(channel: ThreadChannel, importModule: (url: string, index: number) => Promise<unknown>, loaded: unknown[] = []): Promise<void> {
  const init = await new Promise<IOThreadInit>((resolve) => channel.onMessage((m) => resolve(m as IOThreadInit)));
  const send = (m: IOThreadMessage) => channel.post(m);
  const table = adoptWakeTable(init.table);
  markNotMainThread();
  setThreadId(init.thread);
  // The thread's own end, recorded before it is gone: a parent asleep in a blocking poll
  // sees no exit event, but it sees the epitaph and its calls here fail at once.
  const recordOwnEnd = (exit: ThreadExit) => buryThread(table, init.thread, iothreadEpitaph(init.name, describeExit(exit)));
  channel.onEnding?.(recordOwnEnd);
  const ready = (record: ResultRecord) => {
    const slot = init.ready[1];
    if (!sendRecord({ table, slot, generation: table.generation(slot) }, record)) throw unsendable('IOThread ready');
  };
  const ctx = new AioContext({ name: init.name, pollMaxNs: init.pollMaxNs, pollGrow: init.pollGrow, pollShrink: init.pollShrink, timing: true });
  AioContext.setHome(ctx);
  ctx._setPoolModules(init.modules);
  let running = true;
  // Port messages the parent announced through the inbox, and those that arrived.
  let portAnnounced = 0;
  let portReceived = 0;
  const intake = intakeOf(ctx);
  intake.setHooks({
    control(record) {
      if (record[1] === 'stop') running = false;
      else portAnnounced = Math.max(portAnnounced, record[2]);
    },
    parentThread: init.parentThread,
    parentChannel: (record) => send({ kind: 'aio.record', record }),
  });
  // Only records come after the start message. A malformed message is dropped and
  // reported, and not counted: the loop waits for announced messages by their count.
  channel.onMessage((m) => {
    const msg = m as { kind?: unknown; record?: unknown } | null;
    if (typeof msg !== 'object' || msg === null || msg.kind !== 'aio.record') {
      ctx._badRecord(`dropped a malformed message from the parent: it is ${describeValue(msg)}${msg?.kind === undefined ? '' : ` of kind ${describeValue(msg.kind)}`}, not a record`);
    } else if (intake.deliver(msg.record)) portReceived++;
  });
  // Whether the loop holds the process: told to the parent on every change.
  const holds = () => init.keepAlive || ctx._hasLiveWork() || hostEventsExpected() > 0;
  let held = false;
  const mods: ThreadModule[] = [];
  try {
    const sources = [...loaded.map((m) => () => m), ...init.modules.map((url, i) => () => importModule(url, i))];
    for (const source of sources) {
      const mod = (await source()) as ThreadModule;
      mods.push(mod);
      if (typeof mod.setup === 'function') await mod.setup(ctx);
    }
  } catch (err) {
    AioContext.setHome(null);
    try {
      ctx.close();
    } catch {
      // Setup left bottom halves or timers behind: the parent gives the slot back when the thread ends.
    }
    ready([RESULT, init.ready[0], 0, errorData(err)]);
    return;
  }
  held = holds();
  ready([RESULT, init.ready[0], 1, { name: ctx.name, slot: ctx._slot, generation: ctx.handle.generation, hold: held }]);
  const reportHold = () => {
    const now = holds();
    if (now !== held) send({ kind: 'aio.hold', hold: (held = now) });
  };
  try {
    if (init.mode === 'dedicated') await runDedicated();
    else {
      while (running) {
        await ctx.acquireAsync().catch(takenOver);
        try {
          await ctx.pollAsync();
        } finally {
          ctx.release();
        }
        reportHold();
      }
    }
    // Finish what was sent and started before the stop: records announced in the inbox
    // whose port message had not arrived yet (a call the stop came right behind), async
    // functions still running (their replies), and replies still waiting for room in a
    // full inbox.
    for (;;) {
      await receiveAnnounced();
      if (!(hostEventsExpected() > 0 || outboxPending() || intake.hasDelivered())) break;
      takeOver(() => ctx.acquire());
      try {
        ctx.poll(false);
      } finally {
        ctx.release();
      }
      if (!flushOutbox() || hostEventsExpected() > 0) await new Promise<void>((r) => setTimeout(r, FLUSH_RETRY_MS));
    }
  } catch (err) {
    // An exception out of a callback (a BH, a timer, a handler) ends the thread, like an
    // uncaught exception; the parent rejects pending calls with ERR_AIO_THREAD_DIED and
    // locks report owner death.
    AioContext.setHome(null);
    const error = errorData(err);
    recordOwnEnd({ error: errorFrom(error, `IOThread '${init.name}'`) });
    send({ kind: 'aio.crashed', error });
    return;
  }
  try {
    // Modules release what setup() created (their BHs, timers, handlers) before close.
    for (const mod of mods.reverse()) if (typeof mod.teardown === 'function') await mod.teardown(ctx);
    AioContext.setHome(null);
    ctx.close();
    send({ kind: 'aio.exited' });
  } catch (err) {
    send({ kind: 'aio.exited', error: errorData(err) });
  }

  /**
   * Lets the host loop deliver every port message the parent announced in the inbox. An
   * announcement no message follows (a forged record) is given up after a while.
   */
  async function receiveAnnounced(): Promise<void> {
    for (const since = getHost().nowNs(); portReceived < portAnnounced; ) {
      if (getHost().nowNs() - since > PORT_WAIT_NS) {
        ctx._badRecord(`gave up waiting for ${portAnnounced - portReceived} announced port message(s)`);
        portAnnounced = portReceived;
        return;
      }
      await yieldToHost();
    }
  }

  async function runDedicated(): Promise<void> {
    // Something ran and the host loop had no turn for HOST_TICK_NS: give it one before
    // sleeping (a pass that may not sleep), and look for work once more. While something
    // waits on the host, sleep at most HOST_TICK_NS between host turns.
    let hostTurnDue = false;
    let lastTurnNs = getHost().nowNs();
    const giveTurn = async () => {
      await yieldToHost();
      lastTurnNs = getHost().nowNs();
    };
    ctx._setSleepCap(() => (hostTurnDue ? 0 : hostTurnsWanted() ? HOST_TICK_NS : -1));
    try {
      while (running) {
        // The loop holds its context's lock while it dispatches; poll drops it to sleep.
        takeOver(() => ctx.acquire());
        let progress: boolean;
        try {
          progress = ctx.poll(true);
        } finally {
          ctx.release();
        }
        if (progress) {
          hostTurnDue = getHost().nowNs() - lastTurnNs >= HOST_TICK_NS;
          // The promise reactions this pass queued run here.
          await null;
        } else if (hostTurnDue) {
          hostTurnDue = false;
          await giveTurn();
        }
        // Every announced port message is delivered before the loop sleeps again (no
        // await when none is owed: this runs after every pass).
        if (portReceived < portAnnounced) await receiveAnnounced();
        if (hostTurnsWanted()) await giveTurn();
        reportHold();
      }
    } finally {
      ctx._setSleepCap(null);
    }
  }
}
