/**
 * Thread starts relayed to a thread whose event loop always turns. Where a worker starts
 * only while the thread that constructs it turns its event loop (browsers load a nested
 * worker's script through its parent), a worker asleep in a blocking poll could never
 * start a pool worker or an IOThread. A browser window never blocks, so it starts them
 * for its workers: each web worker aio starts from a window gets a spawner port as its
 * first message, and that worker's thread starts go through it.
 *
 * Owns: serving a worker's spawner port (window side; spawner-port.ts receives it in the
 * worker) and the relayed thread as its requester sees it. The window starts the relayed worker with its
 * own host, so that worker is watched there (web-worker.ts, start-worker.ts) and records
 * its own end in shared memory (iothread-runner.ts): the requester learns of the end even
 * while it blocks. Messages pass through the window in both directions, copied (shared
 * memory stays shared).
 *
 * Nothing here runs unless an adapter asks for it (aio-browser).
 */
import { AioContext } from '../loop/context.js';
import { describeValue } from '../base/errors.js';
import type { AioWorker, SpawnedThread, ThreadExit } from '../base/host.js';
import { type MessagePortLike, SPAWNER, isMessagePort, newChannel } from './spawner-port.js';
import { threadEvents } from './web-worker.js';

/** What a requester sends over its spawner port: start `entry` with `modules`, talk over `port`. */
interface SpawnRequest {
  op: 'spawn';
  entry: string;
  modules: string[];
  port: MessagePortLike;
}

/** Requester → window, over a relayed thread's port. */
type RelayCommand = { op: 'post'; message: unknown } | { op: 'terminate' };

/** Window → requester, over a relayed thread's port. */
type RelayEvent = { op: 'message'; message: unknown } | { op: 'exit'; exit: ThreadExit };

/**
 * Window side: gives `worker` (just constructed, nothing posted yet) a spawner port and
 * starts, with `spawn`, each thread it asks for. The port closes when `ended` resolves
 * (the worker's end). Window thread.
 */
export function serveSpawns(worker: AioWorker, spawn: (entry: URL, modules: string[]) => SpawnedThread, ended: Promise<unknown>): void {
  const { port1, port2 } = newChannel();
  worker.postMessage({ kind: SPAWNER, port: port2 }, [port2]);
  port1.onmessage = (e) => {
    const problem = requestProblem(e.data);
    if (problem !== null) {
      AioContext.current()._badRecord(`dropped a malformed thread start request from a worker: ${problem}`);
      return;
    }
    const req = e.data as SpawnRequest;
    let entry: URL;
    try {
      entry = new URL(req.entry);
    } catch {
      AioContext.current()._badRecord(`dropped a thread start request from a worker: its entry ${describeValue(req.entry)} is not a URL`);
      return;
    }
    relay(spawn(entry, req.modules), req.port);
  };
  void ended.then(() => port1.close());
}

/** Window side: passes messages between a thread it started and its requester's port. */
function relay(thread: SpawnedThread, port: MessagePortLike): void {
  const tell = (event: RelayEvent) => port.postMessage(event);
  thread.onMessage((message) => tell({ op: 'message', message }));
  thread.onExit((exit) => {
    tell({ op: 'exit', exit });
    port.close();
  });
  port.onmessage = (e) => {
    const c = e.data as Partial<RelayCommand> | null;
    if (typeof c !== 'object' || c === null) return;
    if (c.op === 'post') thread.post((c as { message: unknown }).message);
    else if (c.op === 'terminate') void thread.terminate();
  };
}

function requestProblem(m: unknown): string | null {
  if (typeof m !== 'object' || m === null) return `it is ${describeValue(m)}`;
  const r = m as Partial<SpawnRequest>;
  if (r.op !== 'spawn') return `its op is ${describeValue(r.op)}`;
  if (typeof r.entry !== 'string') return `its entry is ${describeValue(r.entry)}`;
  if (!Array.isArray(r.modules) || !r.modules.every((x) => typeof x === 'string')) return 'its modules are not strings';
  if (!isMessagePort(r.port)) return `its port is ${describeValue(r.port)}`;
  return null;
}

/**
 * Worker side: asks the window behind `port` to start a thread on `entry` with `modules`,
 * and returns it as its parent would see it. Worker thread.
 */
export function relayedSpawn(port: MessagePortLike, entry: URL, modules: string[]): SpawnedThread {
  const { port1, port2 } = newChannel();
  const request: SpawnRequest = { op: 'spawn', entry: entry.href, modules, port: port2 };
  port.postMessage(request, [port2]);
  const events = threadEvents();
  const command = (c: RelayCommand) => port1.postMessage(c);
  port1.onmessage = (e) => {
    const ev = e.data as RelayEvent;
    if (ev.op === 'message') events.message(ev.message);
    else if (ev.op === 'exit') {
      port1.close();
      events.exit(ev.exit);
    }
  };
  return {
    post: (message) => command({ op: 'post', message }),
    onMessage: events.onMessage,
    onExit: events.onExit,
    async terminate() {
      if (!events.ended()) command({ op: 'terminate' });
      await events.joined;
    },
  };
}
