/**
 * Bun's own sockets as event sources. Bun hands a socket's data to the handler object
 * given when the socket is opened (`Bun.listen`/`Bun.connect` `socket:` option), so
 * `bunSocketHandler(ctx, onData)` makes that object: aio-core's HostQueue queues the data
 * as it arrives and hands it to `onData` in the context's handler phase, as an external
 * client. Home thread of the context.
 */
import { type AioContext, type EventNotifierOptions, HostQueue } from 'aio-core';

/** The subset of Bun's socket handler object aio fills in. */
export interface BunSocketHandler<S> {
  data(socket: S, data: Uint8Array): void;
  close(socket: S): void;
}

/**
 * A handler object for `Bun.listen`/`Bun.connect` (`socket:`): each socket's data goes to
 * `onData(socket, data)` in `ctx`'s handler phase, in arrival order, and
 * `onData(socket, null)` when it closes. External clients unless `options.external` is
 * false. Home thread of `ctx`.
 */
export function bunSocketHandler<S>(
  ctx: AioContext,
  onData: (socket: S, data: Uint8Array | null) => void,
  options?: EventNotifierOptions,
): BunSocketHandler<S> {
  if (typeof onData !== 'function') throw Object.assign(new TypeError('The "onData" argument must be a function'), { code: 'ERR_INVALID_ARG_TYPE' });
  const queue = new HostQueue<[S, Uint8Array | null]>(ctx, ([socket, data]) => onData(socket, data), options);
  return {
    // Bun reuses its buffer after the callback: keep a copy.
    data: (socket, data) => queue.push([socket, data.slice()]),
    close: (socket) => queue.push([socket, null]),
  };
}
