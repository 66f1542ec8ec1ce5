/**
 * The few host globals aio-core relies on. Every runtime it targets (Node, Bun, Deno,
 * browsers and their workers) has them; declaring them here keeps aio-core free of any
 * runtime's type definitions.
 */
declare function setTimeout(cb: () => void, ms?: number): unknown;
declare function clearTimeout(id: unknown): void;
declare function setInterval(cb: () => void, ms?: number): unknown;
declare function clearInterval(id: unknown): void;
declare function queueMicrotask(cb: () => void): void;
declare const performance: { now(): number };
declare class AbortController {
  readonly signal: { readonly aborted: boolean; readonly reason: unknown; addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void; removeEventListener(type: 'abort', listener: () => void): void };
  abort(reason?: unknown): void;
}
declare const console: { error(...data: unknown[]): void };
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  decode(input?: Uint8Array): string;
}
declare class URL {
  constructor(url: string | URL, base?: string | URL);
  readonly href: string;
  toString(): string;
}
interface ImportMeta {
  readonly url: string;
}
