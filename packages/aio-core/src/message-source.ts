/**
 * Message sources: anything that delivers 'message' events (a MessagePort, a WebSocket, a
 * Worker, a BroadcastChannel) as an event source of a context. Events are queued as they
 * arrive in the host loop and handed to the handler in the context's handler phase, so
 * they follow the context's rules: they are external clients by default (held back while
 * `disableExternal()` is in effect, delivered in order afterwards) and never run outside
 * a poll. The context must be polled by something that lets host events in (pollAsync,
 * attach(), an integrated IOThread).
 *
 * Home thread of the context.
 */
import type { AioContext, EventNotifierOptions } from './context.js';
import { argTypeError, checkFunction } from './errors.js';
import { EventNotifier } from './notifier.js';

/** What a message source must offer (MessagePort, WebSocket, Worker, BroadcastChannel all do). */
export interface MessageSourceLike {
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  /** MessagePorts need start() when listened to with addEventListener. */
  start?(): void;
}

interface Registration {
  listener: (event: { data: unknown }) => void;
  notifier: EventNotifier;
}

const registrations = new WeakMap<AioContext, Map<MessageSourceLike, Registration>>();

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
  let map = registrations.get(ctx);
  const old = map?.get(source);
  if (old) {
    source.removeEventListener('message', old.listener);
    ctx.setEventNotifier(old.notifier, null);
    map!.delete(source);
  }
  if (onMessage === null) return;
  const queue: unknown[] = [];
  const notifier = new EventNotifier();
  ctx.setEventNotifier(
    notifier,
    (e) => {
      e.testAndClear();
      for (const data of queue.splice(0)) onMessage(data);
    },
    null,
    null,
    options,
  );
  const listener = (event: { data: unknown }) => {
    queue.push(event.data);
    notifier.set();
  };
  source.addEventListener('message', listener);
  source.start?.();
  if (!map) registrations.set(ctx, (map = new Map()));
  map.set(source, { listener, notifier });
}

/** The default reader of a {@link ReadableStreamLike}. */
export interface ReadableStreamReaderLike<T> {
  read(): Promise<{ done: boolean; value?: T }>;
  releaseLock(): void;
  cancel(reason?: unknown): Promise<void>;
}

/**
 * What `setStreamHandler` reads: a web ReadableStream (Deno conns, fetch bodies, ...), or
 * any object with a `getReader()` giving a default reader. The overloads are
 * ReadableStream's own (byob, default, with options), so that with DOM or Node typings
 * the chunk type is inferred from the default reader rather than from the byob one.
 */
export interface ReadableStreamLike<T> {
  getReader(options: { mode: 'byob' }): unknown;
  getReader(): ReadableStreamReaderLike<T>;
  getReader(options?: unknown): unknown;
}

const streamRegistrations = new WeakMap<AioContext, Map<ReadableStreamLike<unknown>, () => void>>();

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
  let map = streamRegistrations.get(ctx);
  map?.get(stream)?.();
  map?.delete(stream);
  if (onChunk === null) return;
  const queue: (T | null)[] = [];
  const notifier = new EventNotifier();
  let stopped = false;
  const reader = stream.getReader();
  ctx.setEventNotifier(
    notifier,
    (e) => {
      e.testAndClear();
      for (const chunk of queue.splice(0)) onChunk(chunk);
    },
    null,
    null,
    options,
  );
  const stop = () => {
    stopped = true;
    ctx.setEventNotifier(notifier, null);
    reader.releaseLock();
  };
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (stopped) return;
        queue.push(done ? null : (value as T));
        notifier.set();
        if (done) return;
      }
    } catch {
      // Released by stop(), or the stream errored: either way nothing more will come.
      if (!stopped) {
        queue.push(null);
        notifier.set();
      }
    }
  })();
  if (!map) streamRegistrations.set(ctx, (map = new Map()));
  map.set(stream as ReadableStreamLike<unknown>, stop);
}
