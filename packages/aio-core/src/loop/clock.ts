/**
 * Clocks and time scales (QEMU's QEMUClockType and SCALE_*). All times are nanoseconds in
 * a `number` (exact to 2^53 ns, about 104 days of uptime).
 *
 * - Realtime: the host's monotonic clock; always enabled.
 * - Host: the wall clock (follows system time changes); always enabled.
 * - Virtual: driven by the program through `virtualClock`, per thread; starts disabled, as
 *   QEMU's, and a disabled clock's timers never fire. It exists for deterministic tests.
 */
import { argRangeError, checkBoolean, checkNumber } from '../base/errors.js';
import { getHost } from '../base/host.js';

/** Clock types (QEMU_CLOCK_*). */
export const Clock = {
  Realtime: 'realtime',
  Virtual: 'virtual',
  Host: 'host',
} as const;

/** One of the {@link Clock} values. */
export type ClockType = (typeof Clock)[keyof typeof Clock];

/** Nanoseconds per nanosecond: a timer scale. */
export const SCALE_NS = 1;
/** Nanoseconds per microsecond: a timer scale. */
export const SCALE_US = 1_000;
/** Nanoseconds per millisecond: a timer scale. */
export const SCALE_MS = 1_000_000;

/** Clock types in the order a poll runs their timers (QEMU's enum order). */
export const CLOCK_ORDER: readonly ClockType[] = [Clock.Realtime, Clock.Virtual, Clock.Host];

let virtualNs = 0;
let virtualEnabled = false;
const enableListeners = new Set<() => void>();

/** Throws a RangeError naming `name` unless `clock` is a clock type. */
export function checkClock(name: string, clock: unknown): asserts clock is ClockType {
  if (clock !== Clock.Realtime && clock !== Clock.Virtual && clock !== Clock.Host) {
    throw argRangeError(name, "one of 'realtime', 'virtual', 'host'", clock);
  }
}

/** The clock's current time in ns (qemu_clock_get_ns). Any thread; Virtual is per thread. */
export function clockNs(clock: ClockType): number {
  switch (clock) {
    case Clock.Realtime:
      return getHost().nowNs();
    case Clock.Virtual:
      return virtualNs;
    case Clock.Host:
      return Date.now() * 1e6;
    default:
      checkClock('clock', clock);
      return 0;
  }
}

/** True when timers of `clock` may fire (only Virtual can be disabled). */
export function clockEnabled(clock: ClockType): boolean {
  return clock !== Clock.Virtual || virtualEnabled;
}

/** Subscribes to virtual-clock enabling (contexts re-evaluate deadlines). Internal. */
export function onVirtualClockEnabled(listener: () => void): () => void {
  enableListeners.add(listener);
  return () => enableListeners.delete(listener);
}

/**
 * Drives `Clock.Virtual` in this thread. Moving time does not run timers by itself: due
 * timers fire in the next poll of their context. Home thread only (each thread has its
 * own virtual clock).
 */
export const virtualClock = {
  /** Moves virtual time forward by `ns` (>= 0). */
  advance(ns: number): void {
    checkNumber('ns', ns, 0);
    virtualNs += ns;
  },
  /** Sets virtual time to `ns`; it may not go backwards. */
  set(ns: number): void {
    checkNumber('ns', ns, 0);
    if (ns < virtualNs) throw argRangeError('ns', `>= the current virtual time ${virtualNs}`, ns);
    virtualNs = ns;
  },
  /** Enables or disables the clock (it starts disabled). Enabling notifies every context. */
  enable(on: boolean): void {
    checkBoolean('on', on);
    if (virtualEnabled === on) return;
    virtualEnabled = on;
    if (on) for (const l of enableListeners) l();
  },
  /** Current virtual time in ns. */
  now(): number {
    return virtualNs;
  },
  /** Whether the clock is enabled. */
  get enabled(): boolean {
    return virtualEnabled;
  },
};
