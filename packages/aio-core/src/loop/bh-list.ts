/**
 * The bottom halves of one context and its BH phase: QEMU's util/async.c list of BHs,
 * aio_bh_poll's slices, the list other threads push scheduled BHs onto (a lock-free stack
 * of ids in the context's slot, see bh.ts), and what aio_compute_timeout learns from BHs.
 *
 * Order: everything scheduled before a BH phase starts forms a slice, run in scheduling
 * order; BHs scheduled while it runs wait for the next phase. A nested poll finishes the
 * outer slices too.
 *
 * Home thread of the context.
 */
import { BH_DELETED, BH_IDLE, BH_ONESHOT, BH_PENDING, BH_SCHEDULED, type BottomHalf, remoteBhTake } from './bh.js';
import type { FutexOps } from '../locks/futex.js';

/** What a BH phase takes besides the BHs: work the context's other sources add to the slice. */
export interface BhPhaseFeed {
  /** Adds oneshot BHs to the slice (popped from its end: push the last first). */
  feed(slice: BottomHalf[]): void;
  /** Told of a remote BH list that only a forged handle or corrupt memory can produce. */
  bad(problem: string): void;
}

/** What the BHs of a context ask of the next wait: run now, wake within the idle cap, or nothing. */
export type BhReadiness = 'now' | 'idle' | 'none';

/** The bottom halves of one context. @internal */
export class BhList {
  /** `LoopAtomicsOps` over the wake table, and the index of the context's remote BH list head (Slot.RemoteBhHead). */
  readonly #words: FutexOps;
  readonly #remoteHead: number;
  /** Scheduled since the last phase started; popped from its end, so kept newest first. */
  #local: BottomHalf[] = [];
  /** An emptied slice, kept to become the next local list. */
  #spare: BottomHalf[] | null = null;
  /**
   * Slices being run: #slices[#sliceStart .. #sliceEnd), oldest first (a nested phase
   * runs the outer ones too). Indexes into a kept array, not push()/shift(): shift() left
   * the array without room, so every phase grew it again.
   */
  readonly #slices: BottomHalf[][] = [];
  #sliceStart = 0;
  #sliceEnd = 0;
  /** Every live BH (aio_bh_new), for leak reports. */
  readonly #all = new Set<BottomHalf>();
  /** BHs with a handle, by the id other threads push. */
  readonly #shared = new Map<number, BottomHalf>();
  #nextSharedId = 1;
  /** BH callbacks run. */
  runs = 0;

  constructor(words: FutexOps, remoteHead: number) {
    this.#words = words;
    this.#remoteHead = remoteHead;
  }

  /** Adds a new BH to the context's BHs. */
  add(bh: BottomHalf): void {
    this.#all.add(bh);
  }

  /** Queues a BH whose PENDING bit this thread set for the next phase. */
  enqueue(bh: BottomHalf): void {
    this.#local.push(bh);
  }

  /** Gives `bh` an id other threads can push onto the remote list. */
  share(bh: BottomHalf): number {
    const id = this.#nextSharedId++;
    this.#shared.set(id, bh);
    return id;
  }

  /**
   * Takes the BHs other threads pushed; they join the current slice. Every BH on the list
   * is PENDING (only the thread that set PENDING pushes it) and on it once. An id that is
   * not a shared BH of this context, a BH that is not PENDING, or a list longer than the
   * shared BHs can come only from a forged handle or corrupt memory; the rest of the list
   * is then out of reach (its links live in the BHs' own memory), so every PENDING shared
   * BH joins the slice instead, and `extra.bad` is told: one listed twice runs once, its
   * flags gate the run.
   */
  #takeRemote(into: BottomHalf[], extra: BhPhaseFeed): void {
    let id = remoteBhTake(this.#words, this.#remoteHead);
    let left = this.#shared.size;
    while (id !== 0) {
      const bh = this.#shared.get(id);
      if (!bh || left-- === 0 || !(bh._loadFlags() & BH_PENDING)) {
        for (const shared of this.#shared.values()) if (shared._loadFlags() & BH_PENDING) into.push(shared);
        extra.bad(`its remote bottom-half list held id ${id}, which is not a scheduled bottom half of this context (a forged handle or corrupt memory); the scheduled ones were recovered`);
        return;
      }
      into.push(bh);
      id = bh._sharedNext();
    }
  }

  /**
   * The BH phase (aio_bh_poll): the local and remote BHs, then what `extra` feeds into the
   * slice (work from other threads, fault reports), run in order. `notified`: the pass
   * accepted a notify; without one no thread pushed onto the remote list since the last
   * look (a pusher notifies after its push). Returns progress: a BH that was not idle ran.
   */
  phase(extra: BhPhaseFeed, notified: boolean): boolean {
    const slice = this.#local;
    // A slice is empty once it leaves #slices: the last one becomes the next local list.
    this.#local = this.#spare ?? [];
    this.#spare = null;
    if (notified) this.#takeRemote(slice, extra);
    extra.feed(slice);
    const slices = this.#slices;
    slices[this.#sliceEnd++] = slice;
    let progress = false;
    while (this.#sliceStart < this.#sliceEnd) {
      const s = slices[this.#sliceStart]!;
      const bh = s.pop();
      if (!bh) {
        this.#spare = s;
        // Whichever phase (outer or nested) empties the last slice starts the array over.
        if (++this.#sliceStart === this.#sliceEnd) this.#sliceStart = this.#sliceEnd = 0;
        continue;
      }
      const flags = bh._dequeue();
      if (flags & (BH_DELETED | BH_ONESHOT)) this.#free(bh);
      if ((flags & (BH_SCHEDULED | BH_DELETED)) === BH_SCHEDULED) {
        if (!(flags & BH_IDLE)) progress = true;
        this.runs++;
        bh._cb();
      }
    }
    return progress;
  }

  #free(bh: BottomHalf): void {
    this.#all.delete(bh);
    if (bh._sharedId !== 0) this.#shared.delete(bh._sharedId);
  }

  /** Whether a BH would run now (not idle), only idle ones would, or none. */
  readiness(): BhReadiness {
    if (this.#words.load(this.#remoteHead) !== 0) return 'now';
    let idle = false;
    const scan = (list: readonly BottomHalf[]): boolean => {
      for (const bh of list) {
        const f = bh._loadFlags();
        if ((f & (BH_SCHEDULED | BH_DELETED)) === BH_SCHEDULED) {
          if (!(f & BH_IDLE)) return true;
          idle = true;
        }
      }
      return false;
    };
    if (scan(this.#local)) return 'now';
    for (let i = this.#sliceStart; i < this.#sliceEnd; i++) if (scan(this.#slices[i]!)) return 'now';
    return idle ? 'idle' : 'none';
  }

  /** Names of the BHs created and not deleted (what close() reports as leaked). */
  leaked(): string[] {
    return [...this.#all].filter((bh) => !(bh._loadFlags() & BH_DELETED)).map((bh) => bh.name);
  }

  /** Forgets every BH (the context closes). */
  clear(): void {
    this.#all.clear();
    this.#shared.clear();
    this.#local = [];
    this.#slices.length = 0;
    this.#sliceStart = this.#sliceEnd = 0;
  }
}
