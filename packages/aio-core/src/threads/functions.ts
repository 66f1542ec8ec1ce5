/**
 * The functions a thread offers to other threads. Functions cannot cross threads, so a
 * thread registers them by name (usually in its IOThread module) and other threads ask
 * for them by name: `remote.scheduleOneshot(name, ...args)` and `remote.call(name, ...args)`.
 *
 * The registry is per thread: each thread registers its own functions.
 */
import { AioError, checkFunction, checkString, clip } from '../base/errors.js';

// `any[]`, not `unknown[]`: a function with typed parameters must be registrable, and
// parameter types are checked contravariantly.
// biome-ignore lint/suspicious/noExplicitAny: see above
const registry = new Map<string, (...args: any[]) => unknown>();

/**
 * Offers `fn` to other threads under `name`; registering a name again replaces it.
 * This thread only (it runs in this thread, in the context the request targets).
 */
// biome-ignore lint/suspicious/noExplicitAny: functions with typed parameters (see the registry)
export function registerFunction(name: string, fn: (...args: any[]) => unknown): void {
  checkString('name', name);
  if (name.length === 0) throw new RangeError('The "name" argument must not be empty');
  checkFunction('fn', fn);
  registry.set(name, fn);
}

/** Withdraws a function; returns whether it was registered. This thread only. */
export function unregisterFunction(name: string): boolean {
  checkString('name', name);
  return registry.delete(name);
}

/** The function registered under `name`, or a precise error. @internal */
// biome-ignore lint/suspicious/noExplicitAny: the registry's type
export function lookupFunction(name: string, where: string): (...args: any[]) => unknown {
  const fn = registry.get(name);
  if (!fn) throw new AioError('ERR_AIO_NO_FUNCTION', `no function '${clip(name)}' is registered in ${where} (use registerFunction)`);
  return fn;
}
