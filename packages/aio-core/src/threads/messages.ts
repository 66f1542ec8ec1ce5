/**
 * The records contexts exchange through their inboxes (a JSON array in the byte ring of
 * inbox.ts, or the same array posted on an IOThread's port as `{ kind: 'aio.record',
 * record }`), kind by kind, as the code sends them. Element 0 is the kind; the receiving
 * context's intake checks the shape (`recordProblem`) and runs the record by its kind
 * (record-intake.ts). `sendRecord` (outbox.ts) sends them.
 *
 *   [ONESHOT, name, args, senderSlot, senderGen]
 *       Run registered function `name` with `args`, no reply (calls.ts). A failure goes
 *       back as a FAULT to the context in `senderSlot` as of `senderGen`; senderSlot is -1
 *       (and senderGen 0) for a sender in another thread group's table.
 *   [CALL, id, name, args, replySlot, callerThread]
 *       Run `name` and reply with RESULT `id` to the context in `replySlot`. callerThread
 *       is the caller's lock-owner id: a reply to an IOThread's parent may take the port.
 *   [RESULT, id, ok, payload, runNs?]
 *       Settle this thread's pending call `id` (or IOThread start). ok 1: payload is the
 *       value; ok 2: the value is undefined (payload 0); ok 0: payload is RemoteErrorData.
 *       runNs, how long the function ran, is absent from replies no function gave (a
 *       refused call, an IOThread's ready reply).
 *   [HANDOFF, id, ownerDied]
 *       A lock handed to waiter `id` of this thread (a shared CoMutex's next holder,
 *       hand-off.ts); ownerDied 1: the lock was taken over from a holder that died.
 *   [CONTROL, 'stop']            IOThread runner: end the loop.
 *   [CONTROL, 'port', count]     IOThread runner: `count` messages were posted on its port
 *                                so far (see iothread.ts); count > 0.
 *   [FAULT, error]
 *       A oneshot this context sent failed where nobody waits for it
 *       (AioContext.setErrorHandler).
 *
 * Ids are positive int32s from a counter in the wake table (calls.ts), unique in the
 * thread group; slots are wake-table slots. Arrays and not objects with named fields: a
 * call's record is about 40 % shorter that way, and a fifth faster to write and parse.
 *
 * Values travel as JSON. `jsonSafe` says whether a value survives that unchanged; a value
 * that does not (a typed array, a Map, a handle holding a SharedArrayBuffer, NaN, -0)
 * needs a channel that structured-clones (an IOThread's port), or fails loudly. One loss
 * is accepted: an object property whose value is undefined is left out, as JSON.stringify
 * does (`'a' in obj` becomes false, `obj.a` is undefined either way). Refusing such
 * objects would fail every optional field set to undefined on the channels without a
 * port, and checking every property for it would slow each call.
 *
 * Records come from other threads, so a receiver checks each one's shape with
 * `recordProblem` before it acts on it: a malformed record is dropped and reported, never
 * run. Error data crossing threads is cut to a bounded size (`errorData`).
 *
 * In the ring, most CALL and RESULT records travel in a binary form instead
 * (binary-records.ts): the same array comes out on the other side.
 */
import { clip, describeValue } from '../base/errors.js';
import { SLOTS } from '../base/shared-memory.js';

export const ONESHOT = 0;
export const CALL = 1;
export const RESULT = 2;
export const CONTROL = 3;
export const FAULT = 4;
export const HANDOFF = 5;

export type OneshotRecord = [kind: typeof ONESHOT, name: string, args: unknown[], senderSlot: number, senderGen: number];
export type CallRecord = [kind: typeof CALL, id: number, name: string, args: unknown[], replySlot: number, callerThread: number];
export type ResultRecord = [kind: typeof RESULT, id: number, ok: 0 | 1 | 2, payload: unknown, runNs?: number];
export type HandOffRecord = [kind: typeof HANDOFF, id: number, ownerDied: 0 | 1];
export type ControlRecord = [kind: typeof CONTROL, op: 'stop'] | [kind: typeof CONTROL, op: 'port', count: number];
type FaultRecord = [kind: typeof FAULT, error: RemoteErrorData];
/** Every record a context's inbox carries, told apart by element 0. */
export type InboxRecord = OneshotRecord | CallRecord | ResultRecord | HandOffRecord | ControlRecord | FaultRecord;

/** An error as it crosses threads: its message and stack survive. */
export interface RemoteErrorData {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/** Longest error message that crosses threads; a longer one is cut (see clip). */
const MAX_ERROR_MESSAGE = 1000;
/** Longest stack that crosses threads. */
const MAX_ERROR_STACK = 4000;

/** `value` as a string of at most `max` characters, whatever it is; never throws. */
function describe(value: unknown, max?: number): string {
  let text: string;
  try {
    text = typeof value === 'symbol' ? value.toString() : String(value);
  } catch {
    text = `[unprintable ${typeof value}]`;
  }
  return clip(text, max);
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
  if ((typeof err !== 'object' && typeof err !== 'function') || err === null) return { name: 'Error', message: describe(err, MAX_ERROR_MESSAGE) };
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
    message: typeof message === 'string' ? describe(message, MAX_ERROR_MESSAGE) : isError ? '' : describe(err, MAX_ERROR_MESSAGE),
    ...(typeof stack === 'string' ? { stack: describe(stack, MAX_ERROR_STACK) } : {}),
    ...(typeof code === 'string' ? { code: describe(code) } : {}),
  };
}

/** What is wrong with error data received from another thread, or null. */
export function errorDataProblem(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return `its error is ${describeValue(data)}, not an object`;
  const d = data as Partial<Record<keyof RemoteErrorData, unknown>>;
  if (typeof d.name !== 'string' || typeof d.message !== 'string') return 'its error has no string "name" and "message"';
  if ((d.stack !== undefined && typeof d.stack !== 'string') || (d.code !== undefined && typeof d.code !== 'string')) {
    return 'its error has a "stack" or "code" that is not a string';
  }
  return null;
}

function isId(v: unknown): boolean {
  return typeof v === 'number' && (v | 0) === v && v > 0;
}

/**
 * What is wrong with the shape of a record received from another thread, or null when it
 * is an InboxRecord (the values it carries are not looked at). Any thread.
 */
export function recordProblem(r: unknown): string | null {
  if (!Array.isArray(r)) return `it is ${describeValue(r)}, not an array`;
  switch (r[0]) {
    case ONESHOT: {
      const ok = r.length === 5 && typeof r[1] === 'string' && Array.isArray(r[2]) && Number.isInteger(r[3]) && r[3] >= -1 && r[3] < SLOTS && Number.isInteger(r[4]);
      return ok ? null : 'a oneshot record is not [0, name, args, senderSlot, senderGen]';
    }
    case CALL: {
      const slot = r[4];
      const ok =
        r.length === 6 &&
        isId(r[1]) &&
        typeof r[2] === 'string' &&
        Array.isArray(r[3]) &&
        typeof slot === 'number' &&
        Number.isInteger(slot) &&
        slot >= 0 &&
        slot < SLOTS &&
        Number.isInteger(r[5]);
      return ok ? null : 'a call record is not [1, id, name, args, replySlot, callerThread]';
    }
    case RESULT: {
      if ((r.length !== 4 && r.length !== 5) || !isId(r[1]) || (r[2] !== 0 && r[2] !== 1 && r[2] !== 2)) {
        return 'a result record is not [2, id, 0 | 1 | 2, value, runNs?]';
      }
      const runNs = r[4];
      if (runNs !== undefined && !(typeof runNs === 'number' && runNs >= 0 && runNs < Infinity)) return 'a result record has a bad runNs';
      return r[2] === 0 ? errorDataProblem(r[3]) : null;
    }
    case HANDOFF:
      return r.length === 3 && isId(r[1]) && (r[2] === 0 || r[2] === 1) ? null : 'a hand-off record is not [5, id, 0 | 1]';
    case CONTROL:
      if (r.length === 2 && r[1] === 'stop') return null;
      if (r.length === 3 && r[1] === 'port' && Number.isSafeInteger(r[2]) && (r[2] as number) > 0) return null;
      return "a control record is not [3, 'stop'] or [3, 'port', count]";
    case FAULT:
      return r.length === 2 ? errorDataProblem(r[1]) : 'a fault record is not [4, error]';
    default:
      return `its kind ${describeValue(r[0])} is not a record kind`;
  }
}

/**
 * Whether JSON carries `record` unchanged: what its values need (the arguments of a
 * ONESHOT or CALL, the value of a RESULT); every other element is a number or a string.
 * Any thread.
 */
export function recordJsonSafe(record: InboxRecord): boolean {
  switch (record[0]) {
    case ONESHOT:
      return jsonSafe(record[2]);
    case CALL:
      return jsonSafe(record[3]);
    case RESULT:
      return record[2] !== 1 || jsonSafe(record[3]);
    default:
      return true;
  }
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
function jsonSafe(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      // JSON writes -0 as 0; like NaN, it goes by structured clone or fails loudly.
      return Number.isFinite(value) && (value !== 0 || 1 / value > 0);
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
