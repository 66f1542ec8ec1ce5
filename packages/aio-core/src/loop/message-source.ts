/**
 * Message sources and stream sources: anything that delivers 'message' events (a
 * MessagePort, a WebSocket, a Worker, a BroadcastChannel), and web ReadableStreams, as
 * event sources of a context. Messages and chunks are queued as they arrive in the host
 * loop and handed to the handler in the context's handler phase (host-source.ts), so they
 * follow the context's rules: external clients by default (held back while
 * `disableExternal()` is in effect, delivered in order afterwards), never run outside a
 * poll. The context must be polled by something that lets host events in (pollAsync,
 * attach(), an integrated IOThread).
 *
 * Home thread of the context.
 */
import type { AioContext } from './context.js';
import type { EventNotifierOptions, MessageSourceLike, ReadableStreamLike, ReadableStreamReaderLike } from './context-options.js';
import { argTypeError, checkFunction } from '../base/errors.js';
import { HostQueue, SourceRegistry } from './host-source.js';

const messageSources = new SourceRegistry<MessageSourceLike>('AioContext.setMessageHandler()');

/**
 * Delivers `source`'s messages to `onMessage` in `ctx`'s handler phase, in arrival order;
 * `onMessage` null removes the handler. @internal Use `ctx.setMessageHandler()`.
 */
export function setMessageHandler(
  ctx: AioContext,
  source: MessageSourceLike,
  onMessage: ((data: unknown) => void) | null,
  options?: EventNotifierOptions,
): void {
  if (typeof source !== 'object' || source === null || typeof source.addEventListener !== 'function') {
    throw argTypeError('source', 'an object with addEventListener (a MessagePort, WebSocket, Worker...)', source);
  }
  if (onMessage !== null) checkFunction('onMessage', onMessage);
  messageSources.set(
    ctx,
    source,
    onMessage &&
      ((opts) => {
        const queue = new HostQueue(ctx, onMessage, opts);
        const listener = (event: { data: unknown }) => queue.push(event.data);
        source.addEventListener('message', listener);
        source.start?.();
        return {
          remove() {
            source.removeEventListener('message', listener);
            queue.remove();
          },
        };
      }),
    options,
  );
}

const streamSources = new SourceRegistry<ReadableStreamLike<unknown>>('AioContext.setStreamHandler()');

/**
 * Delivers the chunks of `stream` to `onChunk` in `ctx`'s handler phase, in order, and
 * `onChunk(null)` once at its end; `onChunk` null stops reading (the stream is left
 * unlocked, not cancelled). External clients by default. @internal Use `ctx.setStreamHandler()`.
 */
export function setStreamHandler<T>(
  ctx: AioContext,
  stream: ReadableStreamLike<T>,
  onChunk: ((chunk: T | null) => void) | null,
  options?: EventNotifierOptions,
): void {
  if (typeof stream !== 'object' || stream === null || typeof stream.getReader !== 'function') {
    throw argTypeError('stream', 'a ReadableStream', stream);
  }
  if (onChunk !== null) checkFunction('onChunk', onChunk);
  streamSources.set(
    ctx,
    stream as ReadableStreamLike<unknown>,
    onChunk &&
      ((opts) => {
        const queue = new HostQueue(ctx, onChunk, opts);
        let reader: ReadableStreamReaderLike<T>;
        try {
          reader = stream.getReader();
        } catch (err) {
          // Locked by another reader: register nothing.
          queue.remove();
          throw err;
        }
        let stopped = false;
        void (async () => {
          try {
            for (;;) {
              const { done, value } = await reader.read();
              if (stopped) return;
              queue.push(done ? null : (value as T));
              if (done) return;
            }
          } catch {
            // Released by remove(), or the stream errored: either way nothing more will come.
            if (!stopped) queue.push(null);
          }
        })();
        return {
          remove() {
            stopped = true;
            queue.remove();
            reader.releaseLock();
          },
        };
      }),
    options,
  );
}
