/**
 * File-descriptor handlers for Node (QEMU's aio_set_fd_handler): a pipe, FIFO or socket
 * fd becomes an event source of a context. Node's libuv watches the fd and reports
 * readiness as stream events; aio-core's HostSource turns them into the context's handler
 * phase, where the handlers are told the fd and the stream to read from or write to (they
 * read and write themselves). Level-triggered like QEMU's: while data stays buffered, or
 * while the fd stays writable, the handler runs again on every poll. External clients by
 * default: held back by `disableExternal()`.
 *
 * The context must be polled by something that lets host events in (pollAsync,
 * attach(), an integrated IOThread). Home thread of the context.
 */
import { Socket } from 'node:net';
import { type AioContext, type EventNotifierOptions, HostSource, SourceRegistry } from 'aio-core';

/** A read or write handler: told the fd and the stream wrapping it. */
export type FdHandler = (fd: number, stream: Socket) => void;

/** The stream of each fd, shared by every context that watches it. */
const streams = new Map<number, Socket>();
const fdSources = new SourceRegistry<number>('setFdHandler()');

function streamFor(fd: number): Socket {
  let s = streams.get(fd);
  if (!s || s.destroyed) {
    const stream = new Socket({ fd, readable: true, writable: true, allowHalfOpen: true });
    stream.pause();
    // Destroying the stream closes the fd, and the number may then name a new file.
    stream.once('close', () => {
      if (streams.get(fd) === stream) streams.delete(fd);
    });
    streams.set(fd, stream);
    s = stream;
  }
  return s;
}

/** Watches `fd`'s stream for the handlers given; the returned source ends the watch. */
function watchFd(ctx: AioContext, fd: number, onRead: FdHandler | null, onWrite: FdHandler | null, options: EventNotifierOptions | undefined) {
  const stream = streamFor(fd);
  const readable = () => onRead !== null && stream.readableLength > 0;
  const writable = () => onWrite !== null && stream.writable && !stream.writableNeedDrain;
  const source = new HostSource(
    ctx,
    () => readable() || writable(),
    () => {
      if (readable()) onRead!(fd, stream);
      if (writable()) onWrite!(fd, stream);
    },
    options,
  );
  const wake = () => source.wake();
  // 'readable' fires when data is buffered (the stream stays paused: the handler reads).
  stream.ref();
  if (onRead) stream.on('readable', wake);
  if (onWrite) stream.on('drain', wake);
  if (readable() || writable()) wake();
  return {
    remove() {
      stream.off('readable', wake);
      stream.off('drain', wake);
      // Without handlers the fd no longer holds the process alive.
      stream.unref();
      source.remove();
    },
  };
}

/**
 * Runs `onRead` while `fd` has data to read and `onWrite` while it can be written, in
 * `ctx`'s handler phase (aio_set_fd_handler); both null removes the handlers, and setting
 * them again replaces them. The fd is wrapped in the `net.Socket` the handlers are given,
 * which owns it from then on: removing the handlers leaves it open; `stream.destroy()`
 * closes it (and the number may then be registered again for a new file). External
 * clients unless `options.external` is false. Home thread of `ctx`.
 */
export function setFdHandler(
  ctx: AioContext,
  fd: number,
  onRead: FdHandler | null,
  onWrite: FdHandler | null = null,
  options?: EventNotifierOptions,
): void {
  if (!Number.isInteger(fd) || fd < 0) throw Object.assign(new TypeError(`The "fd" argument must be a file descriptor (an integer >= 0); received ${String(fd)}`), { code: 'ERR_INVALID_ARG_TYPE' });
  if (onRead !== null && typeof onRead !== 'function') throw Object.assign(new TypeError('The "onRead" argument must be a function or null'), { code: 'ERR_INVALID_ARG_TYPE' });
  if (onWrite !== null && typeof onWrite !== 'function') throw Object.assign(new TypeError('The "onWrite" argument must be a function or null'), { code: 'ERR_INVALID_ARG_TYPE' });
  fdSources.set(ctx, fd, onRead === null && onWrite === null ? null : (opts) => watchFd(ctx, fd, onRead, onWrite, opts), options);
}
