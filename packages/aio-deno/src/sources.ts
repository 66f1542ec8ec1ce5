/**
 * Deno's own sockets as event sources: a `Deno.Conn` (TCP, Unix, TLS) is a web
 * ReadableStream of bytes, so its data goes through the context's stream handler
 * (`setStreamHandler`), in the handler phase, as an external client. Home thread of the
 * context.
 */
import { AioContext, type EventNotifierOptions, type ReadableStreamReaderLike } from 'aio-core';

/** What a Deno connection offers that aio uses. */
export interface DenoConnLike {
  readonly readable: { getReader(): ReadableStreamReaderLike<Uint8Array> };
}

/**
 * Delivers a `Deno.Conn`'s data to `onData` in `ctx`'s handler phase, in order, then
 * `onData(null)` when the peer closes; null stops reading. External clients unless
 * `options.external` is false. Home thread of `ctx`.
 */
export function setConnHandler(
  ctx: AioContext,
  conn: DenoConnLike,
  onData: ((data: Uint8Array | null) => void) | null,
  options?: EventNotifierOptions,
): void {
  if (!(ctx instanceof AioContext)) throw Object.assign(new TypeError('The "ctx" argument must be an AioContext of this thread'), { code: 'ERR_INVALID_ARG_TYPE' });
  if (typeof conn !== 'object' || conn === null || !('readable' in conn)) {
    throw Object.assign(new TypeError('The "conn" argument must be a Deno.Conn'), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  ctx.setStreamHandler(conn.readable, onData, options);
}
