/**
 * Where a context's faults go: failures of requests it sent that have no caller waiting
 * (a oneshot whose function is not registered, or threw, in the target thread), and, for
 * receivers, input from another thread that was malformed and dropped. A fault never ends
 * a thread; it is handed to the context's `onFault` handler, or, without one, logged to
 * the console once per error code and thread (later ones of that code are only counted).
 *
 * Home thread of the context.
 */
import type { AioError } from './errors.js';

/** Receives a context's faults (see `AioContext.onFault`). */
export type FaultHandler = (error: AioError) => void;

/** Codes the default handler has logged in this thread. */
const logged = new Set<string>();

/** Hands `error` to `handler`, or logs it once per code. A handler that throws is logged too. */
export function reportFault(handler: FaultHandler | null, contextName: string, error: AioError): void {
  if (handler) {
    try {
      handler(error);
      return;
    } catch (thrown) {
      console.error(`aio: AioContext '${contextName}': its onFault handler threw`, thrown);
      return;
    }
  }
  if (logged.has(error.code)) return;
  logged.add(error.code);
  console.error(
    `aio: AioContext '${contextName}': ${error.message} (${error.code}; set the context's onFault to handle these; further ${error.code} faults in this thread are not logged)`,
  );
}
