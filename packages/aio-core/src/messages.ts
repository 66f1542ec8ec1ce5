/**
 * The records contexts exchange through their inboxes, and what the receiving context does
 * with each. A record is a JSON array whose first element is its kind:
 *
 *   [ONESHOT, name, args, senderSlot, senderGen]  run a registered function, no reply; a
 *                                                 failure goes back to the sender as a FAULT
 *   [CALL, id, name, args, replySlot, replyGen]   run it and reply to the caller's context
 *   [RESULT, id, ok, value | error, runNs]        settle the caller's pending call; ok is 1
 *                                                 (value), 2 (undefined) or 0 (error); runNs is
 *                                                 how long the function ran
 *   [CONTROL, op]                                 for the thread runner (stop, ...)
 *   [FAULT, error]                                a request this context sent failed where
 *                                                 nobody waits for it (see faults.ts)
 *
 * Values travel as JSON. `jsonSafe` says whether a value survives that unchanged; a value
 * that does not (a typed array, a Map, a handle holding a SharedArrayBuffer) needs a
 * channel that structured-clones (an IOThread's port), or fails loudly.
 */
export const ONESHOT = 0;
export const CALL = 1;
export const RESULT = 2;
export const CONTROL = 3;
export const FAULT = 4;

export type OneshotRecord = [typeof ONESHOT, string, unknown[], number, number];
export type CallRecord = [typeof CALL, number, string, unknown[], number, number];
export type ResultRecord = [typeof RESULT, number, 0 | 1 | 2, unknown?, number?];
export type ControlRecord = [typeof CONTROL, string];
export type FaultRecord = [typeof FAULT, RemoteErrorData];
export type InboxRecord = OneshotRecord | CallRecord | ResultRecord | ControlRecord | FaultRecord;

/** An error as it crosses threads: its message and stack survive. */
export interface RemoteErrorData {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/** Longest message and stack an error carries across threads; longer ones are cut. */
const MAX_ERROR_TEXT = 4096;

/** `value` as a string of bounded length, whatever it is; never throws. */
function describe(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'symbol' ? value.toString() : String(value);
  } catch {
    text = `[unprintable ${typeof value}]`;
  }
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}... (${text.length - MAX_ERROR_TEXT} more characters)` : text;
}

/** Reads `key` of a thrown value that may be hostile (getters that throw, proxies); undefined if it throws. */
function readField(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * Flattens a thrown value for the trip back. Any value at all: errors keep their name,
 * message, stack and string code; other objects their `name`/`message` if they are
 * strings; anything else its string form. Never throws; texts are bounded.
 */
export function errorData(err: unknown): RemoteErrorData {
  if ((typeof err !== 'object' && typeof err !== 'function') || err === null) return { name: 'Error', message: describe(err) };
  const name = readField(err, 'name');
  const message = readField(err, 'message');
  const stack = readField(err, 'stack');
  const code = readField(err, 'code');
  let isError = false;
  try {
    isError = err instanceof Error;
  } catch {
    // A proxy whose getPrototypeOf trap throws.
  }
  return {
    name: typeof name === 'string' ? describe(name) : 'Error',
    message: typeof message === 'string' ? describe(message) : isError ? '' : describe(err),
    ...(typeof stack === 'string' ? { stack: describe(stack) } : {}),
    ...(typeof code === 'string' ? { code: describe(code) } : {}),
  };
}

/** Rebuilds a thrown error on the caller's side, keeping the remote stack. */
export function errorFrom(data: RemoteErrorData, what: string): Error {
  const err = new Error(data.message) as Error & { code?: string; remoteStack?: string };
  err.name = data.name;
  if (data.code) err.code = data.code;
  if (data.stack) {
    err.remoteStack = data.stack;
    err.stack = `${data.stack}\n    -- ${what}`;
  }
  return err;
}

/** True when JSON carries `value` unchanged (undefined allowed only as an object property). */
export function jsonSafe(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (const v of value) if (v === undefined || !jsonSafe(v, depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const k in value) {
        const v = (value as Record<string, unknown>)[k];
        if (v !== undefined && !jsonSafe(v, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
