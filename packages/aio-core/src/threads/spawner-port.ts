/**
 * A worker's spawner port: the port through which a window starts this worker's threads
 * for it (see web-worker-relay.ts). The worker side of start-worker.ts takes it from the
 * first message, before the program's own listeners see any.
 */

/** A MessagePort as aio-core uses one (it names no runtime's own types). */
export interface MessagePortLike {
  postMessage(message: unknown, transfer?: unknown[]): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(): void;
}

type ChannelConstructor = new () => { port1: MessagePortLike; port2: MessagePortLike };
type PortConstructor = abstract new () => MessagePortLike;

/** A new MessageChannel's two ports. Any thread of a runtime that has MessageChannel. @internal */
export function newChannel(): { port1: MessagePortLike; port2: MessagePortLike } {
  return new (globalThis as unknown as { MessageChannel: ChannelConstructor }).MessageChannel();
}

/** Whether `x` is one of this runtime's MessagePorts. Any thread. @internal */
export function isMessagePort(x: unknown): x is MessagePortLike {
  const Port = (globalThis as unknown as { MessagePort?: PortConstructor }).MessagePort;
  return Port !== undefined && x instanceof Port;
}

/** The kind of the message that hands a worker its spawner port. @internal */
export const SPAWNER = 'aio.spawner';

/** This worker's spawner port, once the window sent it. */
let spawner: MessagePortLike | null = null;

/**
 * Takes the spawner port from the message that carries one, before any other listener
 * sees that message. Call at module load, before code that listens for messages runs.
 * Worker thread. @internal
 */
export function acceptSpawner(): void {
  const scope = globalThis as { addEventListener?(type: 'message', listener: (event: { data: unknown; stopImmediatePropagation(): void }) => void): void };
  scope.addEventListener?.('message', (e) => {
    const m = e.data as { kind?: unknown; port?: unknown } | null;
    if (typeof m !== 'object' || m === null || m.kind !== SPAWNER) return;
    e.stopImmediatePropagation();
    if (spawner === null && isMessagePort(m.port)) spawner = m.port;
  });
}

/** This worker's spawner port, or null (a window, or a worker no window started). Worker thread. */
export function spawnerPort(): MessagePortLike | null {
  return spawner;
}
