/**
 * How the layers built on the loop plug into every context without the loop importing
 * them: work from other threads (record-intake.ts), the thread pool (thread-pool.ts),
 * coroutine entry (coroutine/schedule.ts), contexts of other threads reached through their
 * handles (remote-context.ts). The package's entry module (index.ts), which composes the
 * layers, installs them once; the loop looks them up here.
 */
import type { AioContext } from './context.js';
import type { EventNotifierOptions, MessageSourceLike, ReadableStreamLike } from './context-options.js';
import type { Coroutine } from '../coroutine/coroutine.js';
import type { ContextIntake } from './poll.js';
import type { RemoteContext } from '../threads/remote-context.js';
import type { ThreadPool } from '../threads/thread-pool.js';

/** The structured-cloneable form of an AioContext. */
export interface ContextHandle {
  readonly kind: 'aio.AioContext';
  readonly name: string;
  readonly table: SharedArrayBuffer;
  readonly slot: number;
  readonly generation: number;
}

/**
 * What the layers above the loop add to every context, so that the loop calls them
 * without importing them: the intake of work from other threads (record-intake.ts), the
 * thread pool (thread-pool.ts), coroutine entry (coroutine/schedule.ts), contexts of
 * other threads reached through their handles (remote-context.ts), and host event sources
 * (message-source.ts). The package's entry
 * module (index.ts), which composes the layers, installs them. @internal
 */
export interface ContextExtensions {
  intake(ctx: AioContext): ContextIntake;
  threadPool(ctx: AioContext, modules: (string | URL)[]): ThreadPool;
  coEnter(ctx: AioContext, co: Coroutine<unknown>): void;
  coSchedule(ctx: AioContext, co: Coroutine<unknown>): void;
  remote(handle: ContextHandle): RemoteContext;
  messageHandler(ctx: AioContext, source: MessageSourceLike, onMessage: ((data: unknown) => void) | null, options?: EventNotifierOptions): void;
  streamHandler<T>(ctx: AioContext, stream: ReadableStreamLike<T>, onChunk: ((chunk: T | null) => void) | null, options?: EventNotifierOptions): void;
}

/** Stands in for an extension until the entry module installs it. */
function notInstalled(name: string): () => never {
  return () => {
    throw new Error(`aio-core: the context extension '${name}' is not installed (aio-core was not loaded through its entry module)`);
  };
}

/**
 * The installed extensions; the loop calls them by name (a plain property: coEnter and
 * coSchedule are on hot paths). Its module is part of aio-core, so each is installed.
 * @internal
 */
export const extensions: ContextExtensions = {
  intake: notInstalled('intake'),
  threadPool: notInstalled('threadPool'),
  coEnter: notInstalled('coEnter'),
  coSchedule: notInstalled('coSchedule'),
  remote: notInstalled('remote'),
  messageHandler: notInstalled('messageHandler'),
  streamHandler: notInstalled('streamHandler'),
};

/** Installs extensions of every context (see ContextExtensions). The package's entry module, once. @internal */
export function extendContexts(more: Partial<ContextExtensions>): void {
  Object.assign(extensions, more);
}
