/**
 * Host events into a context's handler phase: the one bridge every event source is built
 * on (message sources and streams in aio-core, the adapters' fds and sockets). The host
 * reports an event in its own loop (a 'message' listener, a socket callback, a stream
 * read); the bridge sets an EventNotifier registered with the context, and the context
 * runs the source's handler in its handler phase. So host events follow the context's
 * rules: external clients unless told otherwise (held back while `disableExternal()` is
 * in effect, delivered in order afterwards), and never run outside a poll.
 *
 * Sources are level-triggered, as QEMU's fd handlers: a source runs in every handler
 * phase while it says it is ready (data still buffered, items still queued), not once per
 * host event, and a handler that throws leaves what it did not take for the next poll.
 *
 * The context must be polled by something that lets host events in (pollAsync, attach(),
 * an integrated IOThread): a blocking poll sleeps where no host event is delivered.
 *
 * Everything here belongs to the home thread of its context.
 */
import type { AioContext } from './context.js';
import type { EventNotifierOptions } from './context-options.js';
import { argTypeError, checkBoolean, checkFunction, checkOptions } from '../base/errors.js';
import { Fifo } from '../base/fifo.js';
import { EventNotifier } from './notifier.js';

/** What a registered source offers its registry: a way to end it. */
export interface RemovableSource {
  /** Stops the source: its handler never runs again. Idempotent. */
  remove(): void;
}

/**
 * Throws unless `ctx` is a context of this thread (a RemoteContext has no handlers). By
 * shape, not class: context.ts loads this module (through message-source.ts), so this
 * one cannot load context.ts.
 */
function checkContext(ctx: unknown): asserts ctx is AioContext {
  const c = ctx as Partial<AioContext> | null;
  if (typeof c !== 'object' || c === null || typeof c.setEventNotifier !== 'function' || typeof c.assertOpen !== 'function') {
    throw argTypeError('ctx', 'an AioContext of this thread', ctx);
  }
}

/** Checks a source's options as `setEventNotifier()` will, before anything is replaced. */
function checkSourceOptions(options: unknown): asserts options is EventNotifierOptions | undefined {
  checkOptions('options', options);
  const external = (options as EventNotifierOptions | undefined)?.external;
  if (external !== undefined) checkBoolean('options.external', external);
}

/**
 * A host readiness condition as a handler of a context (aio_set_fd_handler's shape): after
 * `wake()`, `dispatch` runs in the context's handler phase, and again in every later one
 * while `ready()` holds. Adapters build their runtime's event sources on it.
 *
 * @example
 * ```ts
 * import { AioContext, HostSource } from 'aio-node';
 *
 * const ctx = new AioContext();
 * let buffered = 0; // what the host has delivered and the handler not yet taken
 * const source = new HostSource(ctx, () => buffered > 0, () => void buffered--);
 * buffered = 2; // the host's own callback, then:
 * source.wake(); // runs the handler in the next handler phase, and again while ready
 * ctx.poll(false);
 * source.remove();
 * ctx.close();
 * ```
 */
export class HostSource implements RemovableSource {
  readonly #ctx: AioContext;
  readonly #notifier = new EventNotifier();
  #removed = false;

  /**
   * Registers the source with `ctx` (external unless `options.external` is false). Throws,
   * registering nothing, when an argument is bad or `ctx` is closed. Home thread of `ctx`.
   */
  constructor(ctx: AioContext, ready: () => boolean, dispatch: () => void, options?: EventNotifierOptions) {
    checkContext(ctx);
    checkFunction('ready', ready);
    checkFunction('dispatch', dispatch);
    this.#ctx = ctx;
    ctx.setEventNotifier(
      this.#notifier,
      (e) => {
        e.testAndClear();
        if (this.#removed || !ready()) return;
        try {
          dispatch();
        } finally {
          // Level-triggered: still ready (or dispatch threw) means run again next poll.
          if (!this.#removed && ready()) e.set();
        }
      },
      null,
      null,
      options,
    );
  }

  /** The host saw an event: the source is looked at in the next handler phase. Home thread. */
  wake(): void {
    if (!this.#removed) this.#notifier.set();
  }

  /** Unregisters the source; `dispatch` never runs again. Idempotent, also after the context closed. Home thread. */
  remove(): void {
    if (this.#removed) return;
    this.#removed = true;
    // A closed context has dropped its handlers already.
    if (!this.#ctx.closed) this.#ctx.setEventNotifier(this.#notifier, null);
  }

  /** True once `remove()` was called. */
  get removed(): boolean {
    return this.#removed;
  }
}

/**
 * Items the host delivers (messages, chunks, socket data), handed one by one to `deliver`
 * in a context's handler phase, in the order they were pushed. Each handler phase hands
 * over what was queued when it began; what arrives meanwhile waits for the next one.
 *
 * @example
 * ```ts
 * import { AioContext, HostQueue } from 'aio-node';
 *
 * const ctx = new AioContext();
 * const lines = new HostQueue<string>(ctx, (line) => console.log('got', line));
 * lines.push('first'); // from the host's callback; handed over in the next handler phase
 * lines.push('second');
 * ctx.poll(false);
 * lines.remove();
 * ctx.close();
 * ```
 */
export class HostQueue<T> implements RemovableSource {
  readonly #items = new Fifo<T>();
  readonly #source: HostSource;

  /**
   * Registers the queue with `ctx` (external unless `options.external` is false). Throws,
   * registering nothing, when an argument is bad or `ctx` is closed. Home thread of `ctx`.
   */
  constructor(ctx: AioContext, deliver: (item: T) => void, options?: EventNotifierOptions) {
    checkFunction('deliver', deliver);
    const items = this.#items;
    this.#source = new HostSource(
      ctx,
      () => items.length > 0,
      () => {
        for (let n = items.length; n > 0 && items.length > 0 && !this.#source.removed; n--) deliver(items.shift() as T);
      },
      options,
    );
  }

  /** Queues `item` for the next handler phase; dropped once the queue is removed. Home thread. */
  push(item: T): void {
    if (this.#source.removed) return;
    this.#items.push(item);
    this.#source.wake();
  }

  /** Unregisters the queue; nothing more is delivered. Idempotent. Home thread. */
  remove(): void {
    this.#source.remove();
  }
}

/**
 * The sources of one kind, at most one per context and key (a port, a stream, an fd):
 * setting a key again replaces its source, as aio_set_fd_handler does for an fd.
 *
 * @example
 * ```ts
 * import { AioContext, HostQueue, SourceRegistry } from 'aio-node';
 *
 * const sockets = new SourceRegistry<object>('setSocketHandler()');
 * const ctx = new AioContext();
 * const socket = {};
 * sockets.set(ctx, socket, (options) => new HostQueue<string>(ctx, (data) => console.log(data), options));
 * sockets.set(ctx, socket, null); // removes that socket's source
 * ctx.close();
 * ```
 */
export class SourceRegistry<K> {
  readonly #what: string;
  readonly #byContext = new WeakMap<AioContext, Map<K, RemovableSource>>();

  /** `what` names the operation in errors (e.g. 'setFdHandler()'). */
  constructor(what: string) {
    this.#what = what;
  }

  /**
   * Removes the source `ctx` has under `key`, then registers the one `make` returns, given
   * `options` (`make` null: only removes). Throws before removing anything when `ctx` is
   * not an open context of this thread or `options` are bad; an error from `make` leaves
   * the key empty. Home thread of `ctx`.
   */
  set(ctx: AioContext, key: K, make: ((options: EventNotifierOptions | undefined) => RemovableSource) | null, options?: EventNotifierOptions): void {
    checkContext(ctx);
    checkSourceOptions(options);
    ctx.assertOpen(this.#what);
    let sources = this.#byContext.get(ctx);
    const old = sources?.get(key);
    if (old) {
      sources!.delete(key);
      old.remove();
    }
    if (make === null) return;
    const source = make(options);
    if (!sources) this.#byContext.set(ctx, (sources = new Map()));
    sources.set(key, source);
  }
}
