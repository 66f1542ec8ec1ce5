/**
 * The records contexts exchange through their inboxes, and what the receiving context does
 * with each. A record is a JSON array whose first element is its kind:
 *
 *   [ONESHOT, name, args]                         run a registered function, no reply
 *   [CALL, id, name, args, replySlot, replyGen]   run it and reply to the caller's context
 *   [RESULT, id, ok, value | error, runNs]        settle the caller's pending call; ok is 1
 *                                                 (value), 2 (undefined) or 0 (error); runNs is
 *                                                 how long the function ran
 *   [CONTROL, op]                                 for the thread runner (stop, ...)
 *
 * Values travel as JSON. `jsonSafe` says whether a value survives that unchanged; a value
 * that does not (a typed array, a Map, a handle holding a SharedArrayBuffer) needs a
 * channel that structured-clones (an IOThread's port), or fails loudly.
 */
export const ONESHOT = 0;
export const CALL = 1;
export const RESULT = 2;
export const CONTROL = 3;

export type OneshotRecord = [typeof ONESHOT, string, unknown[]];
export type CallRecord = [typeof CALL, number, string, unknown[], number, number];
export type ResultRecord = [typeof RESULT, number, 0 | 1 | 2, unknown?, number?];
export type ControlRecord = [typeof CONTROL, string];
export type InboxRecord = OneshotRecord | CallRecord | ResultRecord | ControlRecord;

/** An error as it crosses threads: its message and stack survive. */
export interface RemoteErrorData {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/** Flattens a thrown value for the trip back. */
export function errorData(err: unknown): RemoteErrorData {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, stack: err.stack, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(err) };
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
