/**
 * The functions a thread offers to other threads. Functions cannot cross threads, so a
 * thread registers them by name (usually in its IOThread module) and other threads ask
 * for them by name: `remote.scheduleOneshot(name, ...args)` and `remote.call(name, ...args)`.
 *
 * The registry is per thread: each thread registers its own functions.
 */
import { AioError, argTypeError, checkFunction, checkString, clip } from '../base/errors.js';
import type { AnyFunction } from '../loop/services.js';

// AnyFunction takes `any[]`, not `unknown[]`: a function with typed parameters must be
// registrable, and parameter types are checked contravariantly.
const registry = new Map<string, AnyFunction>();

/**
 * Offers `fn` to other threads under `name`; registering a name again replaces it.
 * This thread only (it runs in this thread, in the context the request targets).
 */
export function registerFunction(name: string, fn: AnyFunction): void {
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

/**
 * Registers each function of `functions` under its key (as registerFunction does) and
 * returns `functions`: export it from the thread's module and its type types the calls
 * other threads make (`IOThread.create<typeof import('./disk.js').functions>()`). Throws,
 * registering none, if a value is not a function or a key is empty. This thread only.
 *
 * @example
 * ```ts
 * import { IOThread, defineFunctions } from 'aio-node';
 *
 * // In the thread's module, disk.ts:
 * export const functions = defineFunctions({
 *   read: (offset: number, length: number) => new Uint8Array(length).fill(offset & 0xff),
 * });
 *
 * // In the thread that starts it, with `typeof import('./disk.js').functions` there:
 * const disk = await IOThread.create<typeof functions>({ module: new URL('./disk.js', import.meta.url) });
 * const block = await disk.call('read', 0, 4096); // checked: ('read', number, number) => Uint8Array
 * console.log(block.length);
 * await disk.stop();
 * ```
 */
export function defineFunctions<M extends Record<string, AnyFunction>>(functions: M): M {
  if (typeof functions !== 'object' || functions === null) throw argTypeError('functions', 'an object of functions', functions);
  const entries = Object.entries(functions);
  for (const [name, fn] of entries) {
    if (name.length === 0) throw new RangeError('The "functions" argument must not have an empty key');
    checkFunction(`functions.${clip(name)}`, fn);
  }
  for (const [name, fn] of entries) registry.set(name, fn);
  return functions;
}

/** The function registered under `name`, or a precise error. @internal */
export function lookupFunction(name: string, where: string): AnyFunction {
  const fn = registry.get(name);
  if (!fn) throw new AioError('ERR_AIO_NO_FUNCTION', `no function '${clip(name)}' is registered in ${where} (use registerFunction)`);
  return fn;
}
