/**
 * Errors raised by aio. Every failure a caller can act on carries a stable `code`, so
 * programs branch on `err.code` rather than on message text. Argument checks throw the
 * built-in `TypeError`/`RangeError` (with a `code` too) and always name the argument.
 *
 * Any thread may construct or throw these.
 */

/** Stable error codes used by {@link AioError}. */
export type AioErrorCode =
  | 'ERR_AIO_BH_LEAKED'
  | 'ERR_AIO_TIMERS_PENDING'
  | 'ERR_AIO_CLOSED'
  | 'ERR_AIO_CANNOT_BLOCK'
  | 'ERR_AIO_NO_SHARED_MEMORY'
  | 'ERR_AIO_FOREIGN_MEMORY'
  | 'ERR_AIO_NOTIFIER_BUSY'
  | 'ERR_AIO_BH_DELETED'
  | 'ERR_AIO_BAD_HANDLE'
  | 'ERR_AIO_BAD_RECORD'
  | 'ERR_AIO_NOT_OWNER'
  | 'ERR_AIO_OWNER_DIED'
  | 'ERR_AIO_LOCK_ORDER'
  | 'ERR_AIO_THREAD_DIED'
  | 'ERR_AIO_UNBALANCED'
  | 'ERR_AIO_NO_HOST'
  | 'ERR_AIO_COROUTINE'
  | 'ERR_AIO_NO_FUNCTION'
  | 'ERR_AIO_NOT_SERIALIZABLE'
  | 'ERR_AIO_THREAD_STOPPED'
  | 'ERR_AIO_CANCELLED'
  | 'ERR_AIO_TIMEOUT'
  | 'ERR_AIO_REQUEST_FAILED'
  | 'ERR_AIO_BUSY'
  | 'ERR_AIO_TWO_COPIES';

/**
 * Base class of aio's own errors. Any thread.
 *
 * @example
 * ```ts
 * import { AioContext, AioError } from 'aio-node';
 *
 * const ctx = new AioContext();
 * ctx.close();
 * try {
 *   ctx.bh(() => {});
 * } catch (err) {
 *   if (err instanceof AioError && err.code === 'ERR_AIO_CLOSED') console.log(err.message);
 * }
 * ```
 */
export class AioError extends Error {
  /** Machine-readable reason, stable across releases. */
  readonly code: AioErrorCode;
  constructor(code: AioErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AioError';
    this.code = code;
  }
}

/**
 * Thrown by `AioContext.close()` when bottom halves were not deleted first (QEMU aborts).
 *
 * @example
 * ```ts
 * import { AioContext, BhLeakedError } from 'aio-node';
 *
 * const ctx = new AioContext({ name: 'leaky' });
 * ctx.bh(() => {}, { name: 'forgotten' }); // never deleted
 * try {
 *   ctx.close();
 * } catch (err) {
 *   if (err instanceof BhLeakedError) console.log(err.message); // names 'forgotten'
 * }
 * ```
 */
export class BhLeakedError extends AioError {
  /** Names of the leaked bottom halves, in creation order. */
  readonly leaked: readonly string[];
  constructor(contextName: string, leaked: readonly string[]) {
    super(
      'ERR_AIO_BH_LEAKED',
      `AioContext '${contextName}': ${leaked.length} bottom half(s) leaked: ${leaked.map((n) => `'${n}'`).join(', ')}; delete() them before close()`,
    );
    this.name = 'BhLeakedError';
    this.leaked = leaked;
  }
}

/**
 * Thrown to the next locker of a lock whose owner thread died while holding it. The
 * thrower holds the lock when it receives this error, like a robust pthread mutex.
 *
 * @example
 * ```ts
 * import { Mutex, OwnerDiedError } from 'aio-node';
 *
 * declare const shared: Mutex; // Mutex.from(handle) of a lock other threads take too
 * try {
 *   shared.lock();
 * } catch (err) {
 *   if (!(err instanceof OwnerDiedError)) throw err;
 *   // The holder died: this thread holds the lock now; repair what it protects.
 * }
 * shared.unlock();
 * ```
 */
export class OwnerDiedError extends AioError {
  constructor(what: string) {
    super('ERR_AIO_OWNER_DIED', `${what}: the thread that held it died; the caller now holds it`);
    this.name = 'OwnerDiedError';
  }
}

type Coded<E extends Error> = E & { code: string };

/**
 * Longest name quoted whole in an error message. Names come from other threads too (a
 * function name in a call record, a context name in a handle): a longer one is cut, so
 * an error stays small whatever it quotes.
 */
const MAX_QUOTED = 200;

/** `text` for an error message: cut to `max` characters, saying how long it was. Any thread. */
export function clip(text: string, max = MAX_QUOTED): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} characters)`;
}

/** A short description of any value for an error message: its type, and its value if small. Any thread. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `string '${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  if (typeof value === 'function') return 'function';
  if (typeof value === 'undefined') return 'undefined';
  return `an instance of ${clip(String((value as object).constructor?.name ?? 'Object'), 40)}`;
}

/** A `TypeError` naming the argument. Any thread. */
export function argTypeError(name: string, expected: string, value: unknown): Coded<TypeError> {
  const e = new TypeError(`The "${name}" argument must be ${expected}; received ${describeValue(value)}`) as Coded<TypeError>;
  e.code = 'ERR_INVALID_ARG_TYPE';
  return e;
}

/** A `RangeError` naming the argument. Any thread. */
export function argRangeError(name: string, expected: string, value: unknown): Coded<RangeError> {
  const e = new RangeError(`The "${name}" argument must be ${expected}; received ${describeValue(value)}`) as Coded<RangeError>;
  e.code = 'ERR_OUT_OF_RANGE';
  return e;
}

/**
 * The error `from()` throws for a handle it cannot use: `problem` says which field is wrong
 * and how. Any thread.
 */
export function badHandle(what: string, kind: string, problem: string): AioError {
  return new AioError('ERR_AIO_BAD_HANDLE', `${what}: the "handle" argument is not a valid ${kind} handle: ${problem}`);
}

/** Checks that `value` is a function. */
export function checkFunction(name: string, value: unknown): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw argTypeError(name, 'a function', value);
}

/** Checks that `value` is a finite number, optionally within [min, max]. */
export function checkNumber(name: string, value: unknown, min = -Infinity, max = Infinity): asserts value is number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw argTypeError(name, 'a number', value);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw argRangeError(name, `a finite number in [${min}, ${max}]`, value);
  }
}

/** Checks that `value` is an integer within [min, max]. */
export function checkInteger(name: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw argTypeError(name, 'an integer', value);
  if (!Number.isInteger(value) || value < min || value > max) throw argRangeError(name, `an integer in [${min}, ${max}]`, value);
}

/** Checks that `value` is a boolean. */
export function checkBoolean(name: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean') throw argTypeError(name, 'a boolean', value);
}

/** Checks that `value` is a string. */
export function checkString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw argTypeError(name, 'a string', value);
}

/** Checks that `value` is a plain object (or undefined when optional). */
export function checkOptions(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'object' || value === null)) throw argTypeError(name, 'an object', value);
}
