/**
 * Small helpers shared by the lock tests: acting as another thread (by switching this
 * thread's lock id), swapping the host (to see what a thread that may not block gets),
 * and asserting error codes.
 */
import { expect } from 'vitest';
import { type Host, getHost, setHost } from '../../../packages/aio-core/src/base/host.js';
import { setThreadId, threadId } from '../../../packages/aio-core/src/locks/index.js';

/** True when this thread may block in Atomics.wait (false on a browser main thread). */
export const canBlock = getHost().canBlock();

/** An id no real thread of this test run uses. */
export const OTHER = 0x3ffffff0;

/** Runs `fn` with this thread's lock id set to `id`, as if another thread ran it. */
export function asThread<T>(id: number, fn: () => T): T {
  const saved = threadId();
  setThreadId(id);
  try {
    return fn();
  } finally {
    setThreadId(saved);
  }
}

/** Runs `fn` with the host's answers replaced by `overrides`. */
export function withHost<T>(overrides: Partial<Host>, fn: () => T): T {
  const saved = getHost();
  setHost({ ...saved, ...overrides });
  try {
    return fn();
  } finally {
    setHost(saved);
  }
}

/** Installs a host that counts ref()/unref() (still delegating); returns the counter and a restore function. */
export function countRefs(): { readonly count: () => number; restore(): void } {
  const saved = getHost();
  let n = 0;
  setHost({
    runtime: saved.runtime,
    canBlock: () => saved.canBlock(),
    nowNs: () => saved.nowNs(),
    ref: () => {
      n++;
      saved.ref();
    },
    unref: () => {
      n--;
      saved.unref();
    },
  });
  return { count: () => n, restore: () => setHost(saved) };
}

/** Asserts that `fn` throws an error with `code` (and, optionally, of class `cls`). */
export function expectCode(fn: () => unknown, code: string, cls: abstract new (...args: never[]) => Error = Error): Error {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(cls);
  expect((thrown as { code?: string }).code).toBe(code);
  return thrown as Error;
}

/** Asserts that `p` rejects with an error with `code`. */
export async function expectRejectCode(p: Promise<unknown>, code: string, cls: abstract new (...args: never[]) => Error = Error): Promise<Error> {
  let thrown: unknown;
  try {
    await p;
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(cls);
  expect((thrown as { code?: string }).code).toBe(code);
  return thrown as Error;
}

/** Resolves after `ms` milliseconds of host time. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether `p` settled within a few host turns. */
export async function settled(p: Promise<unknown>, ms = 20): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await sleep(ms);
  return done;
}
