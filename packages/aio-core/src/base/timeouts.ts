/** Timeouts in ns where -1 means infinite, as a poll computes them. */

/** Picks the earlier of two timeouts (qemu_soonest_timeout). */
export function soonest(a: number, b: number): number {
  if (a < 0) return b;
  if (b < 0) return a;
  return Math.min(a, b);
}
