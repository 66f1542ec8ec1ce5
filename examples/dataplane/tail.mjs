// What the guest's latency tail is made of: for every request above the p99, whether it
// was in flight across the drain, across a garbage-collection pause of the guest's
// thread, or across neither (then the pause was not the guest's: the device thread's own,
// or the OS not running a thread). The slow requests come in bursts, requests submitted
// together: a pause of either side holds up the whole queue at once. The figures come
// from the run itself; main.mjs prints them next to p50 and p99.
import { PerformanceObserver, performance } from 'node:perf_hooks';

export class TailProbe {
  #spans; // [submitted ms, completed ms] per request, in completion order
  #count = 0;
  #gcs = []; // [start ms, end ms] of every GC pause of this thread
  #drain = null; // [start ms, end ms]
  #observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.#gcs.push([e.startTime, e.startTime + e.duration]);
  });

  constructor(requests) {
    this.#spans = new Float64Array(requests * 2);
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  /** Stamps `req` when the guest puts it in the queue. */
  submitted(req) {
    req.submittedMs = performance.now();
  }

  completed(req) {
    const i = this.#count++ * 2;
    this.#spans[i] = req.submittedMs;
    this.#spans[i + 1] = performance.now();
  }

  drained(startMs) {
    this.#drain = [startMs, performance.now()];
  }

  /**
   * One line on the requests slower than the p99. Async: GC entries reach the observer
   * on a later turn of the event loop, and the guest's loop never yields while it runs.
   */
  async explain() {
    await new Promise((r) => setTimeout(r, 0));
    this.#observer.disconnect();
    const n = this.#count;
    const lat = new Float64Array(n);
    for (let i = 0; i < n; i++) lat[i] = this.#spans[2 * i + 1] - this.#spans[2 * i];
    const sorted = Float64Array.from(lat).sort();
    const p50 = sorted[Math.floor(n * 0.5)];
    const p99 = sorted[Math.floor(n * 0.99)];
    const across = (a, b, [s, e]) => s < b && e > a;
    let tail = 0;
    let drain = 0;
    let gc = 0;
    let bursts = 0;
    let lastSubmitted = -Infinity;
    for (let i = 0; i < n; i++) {
      if (lat[i] <= p99) continue;
      tail++;
      const a = this.#spans[2 * i];
      // A new burst: submitted over a millisecond after the previous slow request.
      if (a - lastSubmitted > 1) bursts++;
      lastSubmitted = a;
      const b = this.#spans[2 * i + 1];
      if (this.#drain && across(a, b, this.#drain)) drain++;
      else if (this.#gcs.some((g) => across(a, b, g))) gc++;
    }
    const gcMs = this.#gcs.reduce((s, [a, b]) => s + b - a, 0);
    const longest = this.#gcs.reduce((m, [a, b]) => Math.max(m, b - a), 0);
    const pct = (k) => `${Math.round((100 * k) / Math.max(tail, 1))}%`;
    return (
      `tail: p99 is ${(p99 / p50).toFixed(1)}x p50: the ${tail} requests above p99 came in ${bursts} bursts (a pause holds up the whole queue); ` +
      `${pct(drain)} were in flight across the drain, ${pct(gc)} across a GC pause of the guest's thread (${this.#gcs.length} pauses, ` +
      `${gcMs.toFixed(1)} ms in all, longest ${longest.toFixed(2)} ms), ${pct(tail - drain - gc)} across a pause the guest did not see (the device's, or the OS's)`
    );
  }
}
