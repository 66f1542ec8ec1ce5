/**
 * The binary forms of the two records an inbox ring carries most: a CALL whose arguments
 * are numbers, booleans, null, undefined or ASCII strings, and a RESULT whose value is a
 * number, a boolean, null or undefined. They are written without JSON and read without a
 * copy, a decode or a parse; everything else travels as JSON (messages.ts). A binary
 * record's first byte is its kind, BINARY_RESULT or BINARY_CALL, never the first byte of
 * a JSON text ('['). Little-endian:
 *
 *   RESULT  byte 0: BINARY_RESULT   byte 1: ok (1 or 2)   byte 2: value kind (ValueKind)
 *           byte 3: 1 if runNs is present   bytes 4-7: id (int32)   bytes 8-15: runNs
 *           (float64)   bytes 16-23: the number (float64), for ValueKind.Number only
 *   CALL    byte 0: BINARY_CALL   byte 1: argument count   bytes 2-3: name length (uint16)
 *           bytes 4-7: id (int32)   bytes 8-11: caller thread (int32)   bytes 12-13: reply
 *           slot (uint16)   bytes 14-15: 0   then the name (ASCII), then each argument: its
 *           ValueKind, then a float64 for Number, a uint16 length and ASCII for Ascii
 *
 * A float64 carries every number exactly (NaN, -0, infinities), which JSON cannot, and an
 * undefined argument is undefined, not null.
 *
 * Owns: which records have a binary form (`binarySize`), writing and reading them. The
 * reader trusts nothing (the ring is shared memory any thread of the group can write): a
 * field out of range makes the record malformed, reported by the caller and dropped.
 */
import { CALL, type CallRecord, type InboxRecord, RESULT, type ResultRecord } from './messages.js';

const BINARY_RESULT = 1;
const BINARY_CALL = 2;

const RESULT_BYTES = 16;
const RESULT_NUMBER_BYTES = 24;
const CALL_HEADER_BYTES = 16;
const MAX_ARGS = 255;
const MAX_NAME = 255;
const MAX_STRING = 0xffff;

/** The kinds of a binary value. */
const ValueKind = { None: 0, Null: 1, False: 2, True: 3, Number: 4, Ascii: 5 } as const;

/** Whether `first` (a record's first byte) starts a binary record. Any thread. */
export function isBinaryRecord(first: number): boolean {
  return first === BINARY_RESULT || first === BINARY_CALL;
}

/** Bytes of `s` if it is ASCII and at most `max` long, else -1. */
function asciiLength(s: string, max: number): number {
  const n = s.length;
  if (n > max) return -1;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return -1;
  return n;
}

/** Bytes `v` takes as a binary CALL argument, or -1 if it has no binary form. */
function argSize(v: unknown): number {
  switch (typeof v) {
    case 'number':
      return 9;
    case 'boolean':
    case 'undefined':
      return 1;
    case 'string': {
      const n = asciiLength(v, MAX_STRING);
      return n < 0 ? -1 : 3 + n;
    }
    default:
      return v === null ? 1 : -1;
  }
}

/** Bytes of the binary form of `record`, or -1 when it has none. Any thread. */
export function binarySize(record: InboxRecord): number {
  if (record[0] === RESULT) {
    if (record[2] === 2) return RESULT_BYTES;
    if (record[2] !== 1) return -1;
    const v = record[3];
    if (typeof v === 'number') return RESULT_NUMBER_BYTES;
    return typeof v === 'boolean' || v === null ? RESULT_BYTES : -1;
  }
  if (record[0] !== CALL) return -1;
  const args = record[3];
  if (args.length > MAX_ARGS) return -1;
  const name = asciiLength(record[2], MAX_NAME);
  if (name < 0) return -1;
  let size = CALL_HEADER_BYTES + name;
  for (let i = 0; i < args.length; i++) {
    const n = argSize(args[i]);
    if (n < 0) return -1;
    size += n;
  }
  return size;
}

function valueKind(v: unknown): number {
  if (typeof v === 'number') return ValueKind.Number;
  if (typeof v === 'string') return ValueKind.Ascii;
  if (v === undefined) return ValueKind.None;
  return v === null ? ValueKind.Null : v ? ValueKind.True : ValueKind.False;
}

/**
 * Writes the binary form of `record` (binarySize() > 0) at byte `at` of the memory `view`
 * and `bytes` cover; returns its length. Any thread.
 */
export function writeBinary(view: DataView, bytes: Uint8Array, at: number, record: ResultRecord | CallRecord): number {
  if (record[0] === RESULT) {
    const v = record[3];
    const kind = record[2] === 2 ? ValueKind.None : valueKind(v);
    view.setUint8(at, BINARY_RESULT);
    view.setUint8(at + 1, record[2]);
    view.setUint8(at + 2, kind);
    view.setUint8(at + 3, record[4] === undefined ? 0 : 1);
    view.setInt32(at + 4, record[1], true);
    view.setFloat64(at + 8, record[4] ?? 0, true);
    if (kind !== ValueKind.Number) return RESULT_BYTES;
    view.setFloat64(at + 16, v as number, true);
    return RESULT_NUMBER_BYTES;
  }
  const [, id, name, args, replySlot, callerThread] = record;
  view.setUint8(at, BINARY_CALL);
  view.setUint8(at + 1, args.length);
  view.setUint16(at + 2, name.length, true);
  view.setInt32(at + 4, id, true);
  view.setInt32(at + 8, callerThread, true);
  view.setUint16(at + 12, replySlot, true);
  view.setUint16(at + 14, 0, true);
  let p = at + CALL_HEADER_BYTES;
  for (let i = 0; i < name.length; i++) bytes[p++] = name.charCodeAt(i);
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    const kind = valueKind(v);
    bytes[p++] = kind;
    if (kind === ValueKind.Number) {
      view.setFloat64(p, v as number, true);
      p += 8;
    } else if (kind === ValueKind.Ascii) {
      const s = v as string;
      view.setUint16(p, s.length, true);
      p += 2;
      for (let j = 0; j < s.length; j++) bytes[p++] = s.charCodeAt(j);
    }
  }
  return p - at;
}

/** The name the last binary CALL read carried: a call names the same function again and again. */
let lastName = '';

/** The ASCII text of `bytes[from, to)`, reusing `lastName` when it is the same. */
function readName(bytes: Uint8Array, from: number, to: number): string {
  const n = to - from;
  if (n === lastName.length) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (bytes[from + i] !== lastName.charCodeAt(i)) {
        same = false;
        break;
      }
    }
    if (same) return lastName;
  }
  lastName = readAscii(bytes, from, to);
  return lastName;
}

/** The text of `bytes[from, to)`, which were checked to be ASCII. */
function readAscii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode.apply(null, bytes.subarray(from, to) as unknown as number[]);
}

/** Whether `bytes[from, to)` are all ASCII. */
function allAscii(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

/**
 * Reads the binary record of `length` bytes at byte `at` (its first byte is
 * BINARY_RESULT or BINARY_CALL): the record, or a string saying why it is malformed. Any
 * thread.
 */
export function readBinary(view: DataView, bytes: Uint8Array, at: number, length: number): InboxRecord | string {
  return bytes[at] === BINARY_RESULT ? readResult(view, at, length) : readCall(view, bytes, at, length);
}

function readResult(view: DataView, at: number, length: number): ResultRecord | string {
  if (length < RESULT_BYTES) return `a binary result of ${length} bytes (at least ${RESULT_BYTES})`;
  const ok = view.getUint8(at + 1);
  const kind = view.getUint8(at + 2);
  const hasRunNs = view.getUint8(at + 3);
  if (ok !== 1 && ok !== 2) return `a binary result with ok ${ok}`;
  if (hasRunNs > 1) return `a binary result with a runNs flag of ${hasRunNs}`;
  if (kind > ValueKind.Number || (ok === 2) !== (kind === ValueKind.None)) return `a binary result with ok ${ok} and value kind ${kind}`;
  const want = kind === ValueKind.Number ? RESULT_NUMBER_BYTES : RESULT_BYTES;
  if (length !== want) return `a binary result of value kind ${kind} in ${length} bytes (${want} expected)`;
  const id = view.getInt32(at + 4, true);
  const value = kind === ValueKind.Number ? view.getFloat64(at + 16, true) : kind === ValueKind.Null ? null : kind === ValueKind.True ? true : kind === ValueKind.False ? false : 0;
  return hasRunNs ? [RESULT, id, ok, value, view.getFloat64(at + 8, true)] : [RESULT, id, ok, value];
}

function readCall(view: DataView, bytes: Uint8Array, at: number, length: number): CallRecord | string {
  if (length < CALL_HEADER_BYTES) return `a binary call of ${length} bytes (at least ${CALL_HEADER_BYTES})`;
  const end = at + length;
  const argc = view.getUint8(at + 1);
  const nameEnd = at + CALL_HEADER_BYTES + view.getUint16(at + 2, true);
  if (nameEnd > end || !allAscii(bytes, at + CALL_HEADER_BYTES, nameEnd)) return 'a binary call whose name is not ASCII inside the record';
  const name = readName(bytes, at + CALL_HEADER_BYTES, nameEnd);
  const args: unknown[] = new Array(argc);
  let p = nameEnd;
  for (let i = 0; i < argc; i++) {
    if (p >= end) return `a binary call with ${argc} arguments and room for ${i}`;
    const kind = bytes[p++]!;
    if (kind === ValueKind.Number) {
      if (p + 8 > end) return `a binary call whose argument ${i} is cut short`;
      args[i] = view.getFloat64(p, true);
      p += 8;
    } else if (kind === ValueKind.Ascii) {
      if (p + 2 > end) return `a binary call whose argument ${i} is cut short`;
      const n = view.getUint16(p, true);
      p += 2;
      if (p + n > end || !allAscii(bytes, p, p + n)) return `a binary call whose argument ${i} is not ASCII inside the record`;
      args[i] = readAscii(bytes, p, p + n);
      p += n;
    } else if (kind <= ValueKind.True) {
      args[i] = kind === ValueKind.None ? undefined : kind === ValueKind.Null ? null : kind === ValueKind.True;
    } else {
      return `a binary call whose argument ${i} has the value kind ${kind}`;
    }
  }
  if (p !== end) return `a binary call with ${end - p} bytes after its arguments`;
  if (view.getUint16(at + 14, true) !== 0) return 'a binary call whose reserved bytes are not 0';
  return [CALL, view.getInt32(at + 4, true), name, args, view.getUint16(at + 12, true), view.getInt32(at + 8, true)];
}
