/**
 * Bun's own sockets as event sources. Bun hands a socket's data to the handler object
 * given when the socket is opened (`Bun.listen`/`Bun.connect` `socket:` option), so
 * `ctx.bunSocketHandler(onData)` makes that object: data is queued as it arrives and
 * handed to `onData` in the context's handler phase, as an external client.
 * Home thread of the context.
 */
import { AioContext, EventNotifier, type EventNotifierOptions } from 'aio-core';

/** The subset of Bun's socket handler object aio fills in. */
export interface BunSocketHandler<S> {
  data(socket: S, data: Uint8Array): void;
  close(socket: S): void;
}

declare module 'aio-core' {
  interface AioContext {
    /**
     * A handler object for `Bun.listen`/`Bun.connect` (`socket:`): each socket's data goes
     * to `onData(socket, data)` in this context's handler phase, and `onData(socket, null)`
     * when it closes. Home thread. Added by aio-bun.
     */
    bunSocketHandler<S>(onData: (socket: S, data: Uint8Array | null) => void, options?: EventNotifierOptions): BunSocketHandler<S>;
  }
}

AioContext.prototype.bunSocketHandler = function bunSocketHandler<S>(
  this: AioContext,
  onData: (socket: S, data: Uint8Array | null) => void,
  options?: EventNotifierOptions,
): BunSocketHandler<S> {
  if (typeof onData !== 'function') throw Object.assign(new TypeError('The "onData" argument must be a function'), { code: 'ERR_INVALID_ARG_TYPE' });
  this.assertOpen('AioContext.bunSocketHandler()');
  const queue: [S, Uint8Array | null][] = [];
  const notifier = new EventNotifier();
  this.setEventNotifier(
    notifier,
    (e) => {
      e.testAndClear();
      for (const [socket, data] of queue.splice(0)) onData(socket, data);
    },
    null,
    null,
    options,
  );
  return {
    // Bun reuses its buffer after the callback: keep a copy.
    data: (socket, data) => {
      queue.push([socket, data.slice()]);
      notifier.set();
    },
    close: (socket) => {
      queue.push([socket, null]);
      notifier.set();
    },
  };
};
