/**
 * The table of the replies one thread awaits (its pending calls), by record id.
 *
 * Owns: where a pending call is found when its reply comes. Record ids come from one
 * counter in the wake table (WakeTable.nextRecordId), so the ids a thread takes are
 * increasing and, while it is the only thread taking them, consecutive: a slot array
 * indexed by the id's low bits holds almost every call, and a Map holds the few whose
 * slot an older call still occupies (another thread took the ids between, or a call
 * waits very long). With thousands of calls in flight this replaces a Map insert and a
 * Map delete per call (a hash, and a rehash each time the Map grows or shrinks through a
 * burst) with two array stores. The slots grow (doubling) while more than half are
 * taken, and keep their size for the next burst: 8 bytes a slot, 1 MiB at 100,000 calls
 * in flight.
 *
 * Single-threaded: each thread has its own table (calls.ts). This thread only.
 */

/** Slots of a table that held calls; it starts with none. */
const INITIAL_SLOTS = 1024;

/** What a table holds: anything with the record id it awaits. */
export interface HasRecordId {
  readonly id: number;
}

/** The pending calls of this thread, by id. @internal */
export class PendingCalls<T extends HasRecordId> {
  #slots: (T | undefined)[] = [];
  /** slots.length - 1 (slots.length is a power of two, or 0). */
  #mask = -1;
  #inSlots = 0;
  /** Calls whose slot was taken when they were added. */
  readonly #overflow = new Map<number, T>();

  /** How many calls are pending. */
  get size(): number {
    return this.#inSlots + this.#overflow.size;
  }

  /** Adds a call; its id must not be pending already. */
  add(call: T): void {
    if (this.size >= this.#slots.length >>> 1) this.#grow();
    const i = call.id & this.#mask;
    if (this.#slots[i] === undefined) {
      this.#slots[i] = call;
      this.#inSlots++;
    } else this.#overflow.set(call.id, call);
  }

  /** The pending call with `id`, if any. */
  get(id: number): T | undefined {
    const call = this.#slots[id & this.#mask];
    if (call !== undefined && call.id === id) return call;
    return this.#overflow.size === 0 ? undefined : this.#overflow.get(id);
  }

  /** Removes the pending call with `id` and returns it, if there was one. */
  take(id: number): T | undefined {
    const i = id & this.#mask;
    const call = this.#slots[i];
    if (call !== undefined && call.id === id) {
      this.#slots[i] = undefined;
      this.#inSlots--;
      return call;
    }
    if (this.#overflow.size === 0) return undefined;
    const other = this.#overflow.get(id);
    if (other !== undefined) this.#overflow.delete(id);
    return other;
  }

  /** A snapshot of the pending calls (the table may change while the caller walks it). */
  values(): T[] {
    const out: T[] = [];
    if (this.#inSlots > 0) for (const call of this.#slots) if (call !== undefined) out.push(call);
    for (const call of this.#overflow.values()) out.push(call);
    return out;
  }

  #grow(): void {
    const calls = this.values();
    const length = Math.max(INITIAL_SLOTS, this.#slots.length * 2);
    // Filled, so that the array's elements stay packed (no holes to look past).
    this.#slots = new Array<T | undefined>(length).fill(undefined);
    this.#mask = length - 1;
    this.#inSlots = 0;
    this.#overflow.clear();
    for (const call of calls) this.add(call);
  }
}
