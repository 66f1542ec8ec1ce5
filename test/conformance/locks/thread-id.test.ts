/** The per-thread lock id. */
import { describe, expect, it } from 'vitest';
import { setThreadId, threadId } from '../../../packages/aio-core/src/locks/index.js';

describe('/locking/thread-id', () => {
  it('is an integer in [1, 2^30 - 1] (small in every engine), stable within the thread', () => {
    const id = threadId();
    expect(Number.isInteger(id)).toBe(true);
    expect(id).toBeGreaterThan(0);
    expect(id).toBeLessThanOrEqual(0x3fffffff);
    expect(threadId()).toBe(id);
  });

  it('setThreadId validates "id" and installs it', () => {
    const saved = threadId();
    expect(() => setThreadId(0)).toThrow(RangeError);
    expect(() => setThreadId(2 ** 30)).toThrow(/"id"/);
    expect(() => setThreadId(1.5)).toThrow(RangeError);
    expect(() => setThreadId('7' as unknown as number)).toThrow(TypeError);
    expect(threadId()).toBe(saved);
    setThreadId(12345);
    expect(threadId()).toBe(12345);
    setThreadId(2 ** 30 - 1);
    expect(threadId()).toBe(2 ** 30 - 1);
    setThreadId(saved);
  });
});
