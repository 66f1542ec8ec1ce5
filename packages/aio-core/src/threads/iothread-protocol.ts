/**
 * What an IOThread and its parent say to each other over the thread's port: the start
 * message, what a ready reply carries, the messages the thread sends, their check at the
 * parent (the thread runs code of its own, so nothing in a message is trusted), and the
 * epitaph both sides record when the thread ends. Records travel through the inbox.
 */
import { type InboxRecord, type RemoteErrorData, errorDataProblem } from './messages.js';
import { describeValue } from '../base/errors.js';

/** The first message a new IOThread receives. @internal */
export interface IOThreadInit {
  kind: 'aio.init';
  table: SharedArrayBuffer;
  name: string;
  modules: string[];
  mode: 'dedicated' | 'integrated';
  pollMaxNs: number;
  pollGrow: number;
  pollShrink: number;
  parentThread: number;
  /** The lock-owner id the thread takes (its parent picks it, to know the thread's locks and slots). */
  thread: number;
  /** Hold the process for as long as the thread runs. */
  keepAlive: boolean;
  /** Where to send the ready reply: [call id, slot of the parent's context]. */
  ready: [number, number];
}

/** What a ready reply carries: the thread's context, less the table the parent already has. @internal */
export interface ReadyData {
  name: string;
  slot: number;
  generation: number;
  /** Whether the thread's loop holds the process open now (work left by setup). */
  hold: boolean;
}

/** Messages an IOThread sends its parent. @internal */
export type IOThreadMessage =
  | { kind: 'aio.record'; record: InboxRecord }
  | { kind: 'aio.exited'; error?: RemoteErrorData }
  | { kind: 'aio.crashed'; error: RemoteErrorData }
  | { kind: 'aio.hold'; hold: boolean };

/** What is wrong with a message an IOThread sent its parent, or null. Parent thread. @internal */
export function iothreadMessageProblem(m: unknown): string | null {
  if (typeof m !== 'object' || m === null) return `it is ${describeValue(m)}, not an object`;
  const msg = m as { kind?: unknown; record?: unknown; error?: unknown };
  switch (msg.kind) {
    case 'aio.record':
      return null; // the record itself is checked where it is delivered
    case 'aio.exited':
      return msg.error === undefined ? null : errorDataProblem(msg.error);
    case 'aio.crashed':
      return errorDataProblem(msg.error);
    case 'aio.hold':
      return typeof (msg as { hold?: unknown }).hold === 'boolean' ? null : 'its "hold" is not a boolean';
    default:
      return `its kind ${describeValue(msg.kind)} is not a message kind`;
  }
}

/**
 * The epitaph of IOThread `name`'s context slots (what every later call through a handle
 * fails with), the same whether its parent or the thread itself records the end. @internal
 */
export function iothreadEpitaph(name: string, cause: string): string {
  return `IOThread '${name}': ${cause}`;
}
