/**
 * IOThread, the thread's own side (QEMU's iothread_run): receives its start message,
 * creates its context and makes it the thread's home context, loads the module and runs
 * `setup(ctx)`, reports ready, and runs the loop until a stop record arrives. Adapters call
 * `runIOThread` from their worker entry with the channel to the parent.
 *
 * Runs in the IOThread.
 */
import { asyncCallsRunning } from './calls.js';
import { markNotMainThread } from './context-lock.js';
import { AioContext } from './context.js';
import { describeValue } from './errors.js';
import { type ThreadChannel, getHost } from './host.js';
import { yieldToHost } from './host-yield.js';
import type { IOThreadInit, IOThreadMessage } from './iothread.js';
import { setThreadId, threadId } from './locks/thread-id.js';
import { RESULT, type ResultRecord, errorData, jsonSafe } from './messages.js';
import { sendRecord } from './outbox.js';
import { adoptWakeTable } from './shared-memory.js';

/** How often a dedicated loop lets the host run while async calls are unfinished. */
const ASYNC_TICK_NS = 1_000_000;

type ThreadModule = { setup?: (ctx: AioContext) => unknown; teardown?: (ctx: AioContext) => unknown };

/**
 * Runs an IOThread on `channel`: waits for the start message, loads the modules with
 * `importModule` (given each URL and its index), then loops. IOThread only.
 */
export async function runIOThread(channel: ThreadChannel, importModule: (url: string, index: number) => Promise<unknown>): Promise<void> {
  const init = await new Promise<IOThreadInit>((resolve) => channel.onMessage((m) => resolve(m as IOThreadInit)));
  const send = (m: IOThreadMessage) => channel.post(m);
  const table = adoptWakeTable(init.table);
  markNotMainThread();
  const ready = (record: ResultRecord) => {
    const slot = init.ready[1];
    sendRecord(table, slot, table.generation(slot), record, jsonSafe(record), null, 'IOThread ready');
  };
  if (threadId() === init.parentThread) setThreadId(init.parentThread === 0x7fffffff ? 1 : init.parentThread + 1);
  const ctx = new AioContext({ name: init.name, pollMaxNs: init.pollMaxNs, pollGrow: init.pollGrow, pollShrink: init.pollShrink, timing: true });
  AioContext.setHome(ctx);
  ctx._setPoolModules(init.modules);
  let running = true;
  // Port messages the parent announced through the inbox, and those that arrived.
  let portAnnounced = 0;
  let portReceived = 0;
  ctx._setHooks({
    control(op) {
      if (op === 'stop') running = false;
      else if (op.startsWith('port:')) portAnnounced = Math.max(portAnnounced, Number(op.slice(5)));
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
    } else if (ctx._deliver(msg.record)) portReceived++;
  });
  const mods: ThreadModule[] = [];
  try {
    for (const [i, url] of init.modules.entries()) {
      const mod = (await importModule(url, i)) as ThreadModule;
      mods.push(mod);
      if (typeof mod.setup === 'function') await mod.setup(ctx);
    }
  } catch (err) {
    AioContext.setHome(null);
    ready([RESULT, init.ready[0], 0, errorData(err)]);
    return;
  }
  ready([RESULT, init.ready[0], 1, { name: ctx.name, slot: ctx._slot, generation: ctx.handle.generation, thread: threadId() }]);
  try {
    if (init.mode === 'dedicated') {
      // While an async function called here is unfinished, the loop wakes every
      // millisecond and gives the host loop a turn, so its promise chain (and any host
      // timer it awaits) can finish; otherwise the host loop runs only when a message
      // waits on the port.
      const tick = ctx.timer('realtime', 1, () => {});
      while (running) {
        // The loop holds its context's lock while it dispatches; poll drops it to sleep.
        ctx.acquire();
        try {
          ctx.poll(true);
        } finally {
          ctx.release();
        }
        // Let the host loop deliver every announced port message before sleeping again.
        while (portReceived < portAnnounced) await yieldToHost();
        if (asyncCallsRunning() > 0) {
          await yieldToHost();
          if (asyncCallsRunning() > 0 && !tick.pending()) tick.modNs(getHost().nowNs() + ASYNC_TICK_NS);
        }
      }
      tick.del();
    } else {
      while (running) {
        await ctx.acquireAsync();
        try {
          await ctx.pollAsync();
        } finally {
          ctx.release();
        }
      }
    }
  } catch (err) {
    // An exception out of a callback ends the thread, like an uncaught exception; the
    // parent rejects pending calls with ERR_AIO_THREAD_DIED and locks report owner death.
    AioContext.setHome(null);
    send({ kind: 'aio.crashed', error: errorData(err) });
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
}
