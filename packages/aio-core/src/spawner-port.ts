/**
 * A worker's spawner port: the port through which a window starts this worker's threads
 * for it (see web-worker-relay.ts). The worker side of start-worker.ts takes it from the
 * first message, before the program's own listeners see any.
 */

/** The kind of the message that hands a worker its spawner port. @internal */
export const SPAWNER = 'aio.spawner';

/** This worker's spawner port, once the window sent it. */
let spawner: MessagePort | null = null;

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
    if (spawner === null && m.port instanceof MessagePort) spawner = m.port;
  });
}

/** This worker's spawner port, or null (a window, or a worker no window started). Worker thread. @internal */
export function spawnerPort(): MessagePort | null {
  return spawner;
}
