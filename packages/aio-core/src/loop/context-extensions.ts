/**
 * How the layers built on the loop plug into every context without the loop importing
 * them: work from other threads (record-intake.ts), the thread pool (thread-pool.ts),
 * coroutine entry (coroutine/schedule.ts), contexts of other threads reached through their
 * handles (remote-context.ts). The package's entry module (index.ts), which composes the
 * layers, installs them once; the loop looks them up here.
 */
import type { ContextBase, ContextHandle } from './context-base.js';
import type { EventNotifierOptions, MessageSourceLike, ReadableStreamLike } from './context-options.js';
import type { ContextIntake } from './poll.js';
import type { ContextCoroutine, RemoteContext, ThreadPool } from './services.js';

/**
 * What the layers above the loop add to every context, so that the loop calls them
 * without importing them: the intake of work from other threads (record-intake.ts), the
 * thread pool (thread-pool.ts), coroutine entry (coroutine/schedule.ts), contexts of
 * other threads reached through their handles (remote-context.ts), and host event sources
 * (message-source.ts). The package's entry
 * module (index.ts), which composes the layers, installs them. @internal
 */
export interface ContextExtensions {
  // Each gets the AioContext itself, typed as its base so that this module (which
  // context.ts imports) does not import context.ts back.
  intake(ctx: ContextBase): ContextIntake;
  threadPool(ctx: ContextBase, modules: (string | URL)[]): ThreadPool;
  coEnter(ctx: ContextBase, co: ContextCoroutine): void;
  coSchedule(ctx: ContextBase, co: ContextCoroutine): void;
  remote(handle: ContextHandle): RemoteContext;
  messageHandler(ctx: ContextBase, source: MessageSourceLike, onMessage: ((data: unknown) => void) | null, options?: EventNotifierOptions): void;
  streamHandler<T>(ctx: ContextBase, stream: ReadableStreamLike<T>, onChunk: ((chunk: T | null) => void) | null, options?: EventNotifierOptions): void;
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
