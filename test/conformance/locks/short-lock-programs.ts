/**
 * The short lock (locks/short-lock.ts) as simulated threads take it, shared by the model
 * tests of the short lock, the inbox ring and the shared CoMutex ring: the uncontended
 * attempt, then rounds until one locks, as `shortLock()` runs them (there each round's
 * wait is bounded by a deadline; here by the thread's `giveUp`).
 */
import type { FutexOps } from '../../../packages/aio-core/src/locks/futex.js';
import {
  type DeathRecord,
  ShortLockResult,
  shortLockRound,
  shortTryLock,
} from '../../../packages/aio-core/src/locks/short-lock.js';
import { checkpoint } from './model-checker.js';

/** How a simulated thread takes a short lock. */
export interface ShortLockStyle {
  /** Looks at the state word per round (the real lock uses SHORT_LOCK_SPINS). */
  readonly spins: number;
  /** False for a thread that may not block: it only spins. */
  readonly mayBlock: boolean;
}

/** Spins once, then sleeps: the smallest model of the real lock. */
export const BLOCKING: ShortLockStyle = { spins: 1, mayBlock: true };

/** Deaths recorded in word `word` (the id of the one thread that ended, 0 for none). */
export function deathsAt(f: FutexOps, word: number): DeathRecord {
  return { isThreadDead: (id) => f.load(word) === id };
}

/** Nobody ever ends. */
export const NO_DEATHS: DeathRecord = { isThreadDead: () => false };

/**
 * Takes the short lock (state word `lock`, owner word `owner`) for `me`; returns true when
 * it took the lock over from a dead holder. Each round starts at a checkpoint labelled
 * `label` (which must encode the caller's locals, see model-checker.ts), so rounds that
 * changed nothing converge; with `label` null (a lock taken inside an algorithm, whose
 * locals a label cannot name), rounds set no checkpoint.
 */
export function takeShortLock(
  f: FutexOps,
  label: string | null,
  lock: number,
  owner: number,
  me: number,
  style: ShortLockStyle = BLOCKING,
  deaths: DeathRecord = NO_DEATHS,
): boolean {
  if (shortTryLock(f, lock, owner, me)) return false;
  for (;;) {
    if (label !== null) checkpoint(f, `${label}: short lock round`);
    const r = shortLockRound(f, lock, owner, me, style.spins, style.mayBlock, deaths);
    if (r !== ShortLockResult.Again) return r === ShortLockResult.TookOver;
  }
}
