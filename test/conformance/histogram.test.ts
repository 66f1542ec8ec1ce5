// Histogram: the bucket a value lands in (seen through p50, see below), exact min, max,
// mean and count, and what it does with values below 1 and above 2^32.
import { Histogram } from 'aio-core';
import { describe, expect, it } from 'vitest';

/** The lower bound of the bucket of v: the largest 2^e * (1 + k/4) (k = 0..3) not above v. */
function bucketLower(v: number): number {
  if (v < 1) return 0;
  let e = 0;
  while (2 ** (e + 1) <= v) e++;
  let k = 3;
  while (2 ** e * (1 + k / 4) > v) k--;
  return 2 ** e * (1 + k / 4);
}

/**
 * p50 of {0.5, v, 2^60}: the middle value's bucket, as its lower bound (percentiles are
 * clamped to [min, max], and 0.5 and 2^60 keep them out of the way).
 */
function middleBucket(v: number): number {
  const h = new Histogram();
  h.record(0.5);
  h.record(v);
  h.record(2 ** 60);
  return h.summary().p50;
}

describe('Histogram', () => {
  it('puts each value in the power-of-two quarter it falls in, at every scale', () => {
    const values = [1, 1.5, 2, 3, 3.99, 4, 4.5, 5, 6, 7, 7.99, 8, 9, 10, 11, 12, 13, 15.5, 16, 100, 1000, 1023, 1024, 1279, 1280, 65_535, 1e6, 123_456_789.7];
    for (let e = 2; e < 40; e++) for (const k of [0, 1, 2, 3]) values.push(2 ** e * (1 + k / 4), 2 ** e * (1 + k / 4) - 1, 2 ** e * (1 + k / 4) + 0.5);
    values.push(2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 3 * 2 ** 40 + 7);
    for (const v of values) expect(middleBucket(v), `value ${v}`).toBe(bucketLower(v));
  });

  it('counts exactly: count, min, max and mean; values below 0 count as 0', () => {
    const h = new Histogram();
    expect(h.summary()).toMatchObject({ count: 0, p50: 0, p99: 0 });
    for (const v of [900, 1_200, 1_500, 50_000, -5]) h.record(v);
    const s = h.summary();
    expect(s.count).toBe(5);
    expect(s.min).toBe(0);
    expect(s.max).toBe(50_000);
    expect(s.mean).toBe((900 + 1_200 + 1_500 + 50_000) / 5);
    expect(s.p99).toBe(bucketLower(50_000)); // percentiles are bucket lower bounds
  });
});
