/**
 * A log-linear latency histogram (in nanoseconds) for the observability numbers aio
 * reports: IOThread call run and wait times. Buckets are powers of two split into 4, so
 * percentiles are within about 19% of the true value at any scale, in fixed memory.
 *
 * Owned by one thread; not shared.
 */

/** Each power of two is split into 2^SUB_BITS buckets. */
const SUB_BITS = 2;
const SUB = 1 << SUB_BITS;
const BUCKETS = 64 * SUB;
/** Values from here up to 2^32 find their bucket with integer operations (see #bucket). */
const INT_FROM = SUB;
const INT_TO = 2 ** 32;

/** What a histogram reports. All times are nanoseconds. */
export interface HistogramSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

/**
 * A latency histogram. Its owner thread only.
 *
 * @example
 * ```ts
 * import { Histogram } from 'aio-node';
 *
 * const latency = new Histogram();
 * for (const ns of [900, 1_200, 1_500, 50_000]) latency.record(ns);
 * const { count, p50, p99 } = latency.summary();
 * console.log(count, p50, p99);
 * ```
 */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** Records one value in ns (negative values count as 0). */
  record(ns: number): void {
    const v = Math.max(ns, 0);
    this.#counts[Histogram.#bucket(v)]!++;
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  static #bucket(v: number): number {
    if (v < 1) return 0;
    if (v >= INT_FROM && v < INT_TO) {
      // The same bucket as below, from the integer part (a call records two of these, so
      // this is on every call's path): the exponent from the leading zeros, the sub-bucket
      // from the SUB_BITS bits after the leading one. floor(v / 2^k) = floor(v) >>> k.
      const exp = 31 - Math.clz32(v);
      return exp * SUB + ((v >>> (exp - SUB_BITS)) & (SUB - 1));
    }
    const exp = Math.floor(Math.log2(v));
    const frac = Math.floor((v / 2 ** exp - 1) * SUB);
    return Math.min(BUCKETS - 1, exp * SUB + frac);
  }

  static #lower(b: number): number {
    const exp = Math.floor(b / SUB);
    return 2 ** exp * (1 + (b % SUB) / SUB);
  }

  /** The value below which `q` (0..1) of the recorded values lie, approximately. */
  percentile(q: number): number {
    if (this.#count === 0) return 0;
    const target = q * this.#count;
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.#counts[b]!;
      if (seen >= target) return Math.min(this.#max, Math.max(this.#min, Histogram.#lower(b)));
    }
    return this.#max;
  }

  /** Count, min, max, mean and the 50th, 90th and 99th percentiles. */
  summary(): HistogramSummary {
    return {
      count: this.#count,
      min: this.#count ? this.#min : 0,
      max: this.#max,
      mean: this.#count ? this.#sum / this.#count : 0,
      p50: this.percentile(0.5),
      p90: this.percentile(0.9),
      p99: this.percentile(0.99),
    };
  }

  /** Forgets everything recorded. */
  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = 0;
  }
}
