/**
 * How the model-check tests assert on a report: a clean model (no violation, some
 * schedules explored) and a broken variant the checker must catch. One line of output per
 * model, traces only in a failure's message.
 */
import { expect } from 'vitest';
import { type CheckOptions, type CheckReport, type Model, type ViolationKind, check, summary } from './model-checker.js';

/** One line saying whether a broken variant was caught, and how. */
export function brokenSummary(name: string, r: CheckReport): string {
  return `${name}: ${r.violation ? `caught (${r.violation.kind}: ${r.violation.message})` : 'NOT caught'} after ${r.states} states`;
}

/** Checks `model` and expects no violation; returns the report. */
export function expectClean(name: string, model: Model, options: CheckOptions = {}): CheckReport {
  const r = check(model, options);
  console.log(summary(name, r).split('\n')[0]);
  expect(r.violation, summary(name, r)).toBeUndefined();
  expect(r.schedules).toBeGreaterThan(0);
  return r;
}

/** Checks a broken variant and expects the checker to report one of `kinds`; returns the report. */
export function expectCaught(name: string, model: Model, kinds: readonly ViolationKind[], options: CheckOptions = {}): CheckReport {
  const r = check(model, options);
  console.log(brokenSummary(name, r));
  expect(kinds, summary(name, r)).toContain(r.violation?.kind);
  return r;
}
