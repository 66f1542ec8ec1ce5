/**
 * Deno's own sockets as event sources: a `Deno.Conn` (TCP, Unix, TLS) delivers its data
 * through the context's stream handler, in the handler phase, as an external client.
 * Home thread of the context.
 */
import { AioContext, type EventNotifierOptions } from 'aio-core';

/** What a Deno connection offers that aio uses. */
export interface DenoConnLike {
  readonly readable: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }>; releaseLock(): void; cancel(reason?: unknown): Promise<void> } };
}

declare module 'aio-core' {
  interface AioContext {
    /**
     * Delivers a `Deno.Conn`'s data to `onData` in this context's handler phase, then
     * `onData(null)` when the peer closes; null stops reading. Home thread. Added by aio-deno.
     */
    setConnHandler(conn: DenoConnLike, onData: ((data: Uint8Array | null) => void) | null, options?: EventNotifierOptions): void;
  }
}

AioContext.prototype.setConnHandler = function setConnHandler(this: AioContext, conn, onData, options) {
  if (typeof conn !== 'object' || conn === null || !('readable' in conn)) {
    throw Object.assign(new TypeError('The "conn" argument must be a Deno.Conn'), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  this.setStreamHandler(conn.readable, onData, options);
};
