// The virtqueue both sides share: a split virtio ring (descriptor table, available ring,
// used ring) and the guest memory its descriptors point into, all in SharedArrayBuffers,
// so requests and completions cross threads without a message copy.
//
// The driver (the "guest", on the main thread) owns the available ring; the device (the
// IOThread) owns the used ring. Each side publishes its ring index with Atomics.store after
// plain writes to descriptors, headers, data and ring entries; the other side reads that
// index with Atomics.load before reading them, so the plain writes are visible to it.
//
// A request is a virtio-blk chain of three descriptors: a 16-byte header (type, sector),
// a 4 KiB data buffer, and a one-byte status the device writes.

/** Block size of the disk and of every request, in bytes. */
export const BLOCK = 4096;
/** virtio-blk request types and statuses. */
export const VIRTIO_BLK_T_IN = 0; // read: the device writes the data buffer
export const VIRTIO_BLK_T_OUT = 1; // write: the device reads the data buffer
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
/** Descriptor flags. */
export const VRING_DESC_F_NEXT = 1;
export const VRING_DESC_F_WRITE = 2;

const HEADER_BYTES = 16;
const SECTOR = 512;
const DESC_WORDS = 4; // addr, len, flags, next

/** Control words, before the rings. */
const AVAIL_IDX = 0; // written by the driver
const USED_IDX = 1; // written by the device
const DEVICE_SEEN = 2; // the device's last_avail_idx, published for the driver to read
const IN_FLIGHT = 3; // requests the device took and has not completed
const DRAINED = 4; // 1 while the device has external requests disabled
const DRAIN_IN_FLIGHT = 5; // what the device had in flight when it began the drain
const CONTROL_WORDS = 8;

/**
 * Creates the shared memory of a queue with room for `depth` outstanding requests. The
 * returned object is structured-cloneable: pass it to the device thread and open it there
 * with `new Virtqueue(shared)`.
 */
export function createVirtqueue(depth) {
  if (!Number.isInteger(depth) || depth < 1 || depth > 4096) throw new RangeError(`The "depth" argument must be an integer in 1..4096; received ${depth}`);
  let size = 1;
  while (size < depth) size *= 2;
  const descs = depth * 3;
  const words = CONTROL_WORDS + descs * DESC_WORDS + size + size * 2;
  const ramBytes = depth * (HEADER_BYTES + BLOCK + 1);
  return { depth, size, ring: new SharedArrayBuffer(words * 4), ram: new SharedArrayBuffer(ramBytes) };
}

/** One side's view of a queue made by createVirtqueue(). */
export class Virtqueue {
  // Each side counts its ring privately and only publishes the index with Atomics.store:
  // a plain store of the shared index could become visible before the entries it covers.
  #availIdx = 0;
  #usedIdx = 0;

  constructor(shared) {
    this.depth = shared.depth;
    this.size = shared.size;
    this.shared = shared;
    this.words = new Int32Array(shared.ring);
    this.ram = new Uint8Array(shared.ram);
    this.ramView = new DataView(shared.ram);
    this.descBase = CONTROL_WORDS;
    this.availBase = this.descBase + shared.depth * 3 * DESC_WORDS;
    this.usedBase = this.availBase + shared.size;
    this.dataBase = shared.depth * HEADER_BYTES;
    this.statusBase = this.dataBase + shared.depth * BLOCK;
  }

  // ------------------------------------------------------------------ driver side

  /** The data buffer of request slot `slot` (the driver fills it for writes, reads it for reads). */
  dataOf(slot) {
    return this.ram.subarray(this.dataBase + slot * BLOCK, this.dataBase + (slot + 1) * BLOCK);
  }

  /** Status byte the device wrote for slot `slot`. */
  statusOf(slot) {
    return this.ram[this.statusBase + slot];
  }

  /**
   * Builds the descriptor chain of slot `slot` for a request of `type` on disk block
   * `block`, and puts it in the available ring. The device sees it once publish() runs.
   */
  add(slot, type, block) {
    const header = slot * HEADER_BYTES;
    this.ramView.setUint32(header, type, true);
    this.ramView.setUint32(header + 4, 0, true);
    this.ramView.setBigUint64(header + 8, BigInt((block * BLOCK) / SECTOR), true);
    this.ram[this.statusBase + slot] = 0xff;
    const head = slot * 3;
    const dataFlags = type === VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0;
    this.#setDesc(head, header, HEADER_BYTES, VRING_DESC_F_NEXT, head + 1);
    this.#setDesc(head + 1, this.dataBase + slot * BLOCK, BLOCK, dataFlags | VRING_DESC_F_NEXT, head + 2);
    this.#setDesc(head + 2, this.statusBase + slot, 1, VRING_DESC_F_WRITE, 0);
    this.words[this.availBase + (this.#availIdx & (this.size - 1))] = head;
    this.#availIdx = (this.#availIdx + 1) | 0;
  }

  /** Makes every add() so far visible to the device. */
  publish() {
    // Pairs with the device's Atomics.load in takeAvail(): the ring entries, descriptors
    // and headers written before become visible with the index.
    Atomics.store(this.words, AVAIL_IDX, this.#availIdx);
  }

  #setDesc(i, addr, len, flags, next) {
    const w = this.descBase + i * DESC_WORDS;
    this.words[w] = addr;
    this.words[w + 1] = len;
    this.words[w + 2] = flags;
    this.words[w + 3] = next;
  }

  /** Calls `fn(slot, len)` for each completion the device published since the last call. */
  takeUsed(lastUsed, fn) {
    // Pairs with the device's Atomics.store in pushUsed().
    const end = Atomics.load(this.words, USED_IDX);
    for (let i = lastUsed; i !== end; i = (i + 1) | 0) {
      const e = this.usedBase + (i & (this.size - 1)) * 2;
      fn(this.words[e] / 3, this.words[e + 1]);
    }
    return end;
  }

  /** True if the device published completions after `lastUsed`. */
  usedSince(lastUsed) {
    return Atomics.load(this.words, USED_IDX) !== lastUsed;
  }

  /** Requests the device took from the ring and has not completed. */
  deviceInFlight() {
    return Atomics.load(this.words, IN_FLIGHT);
  }

  /** Requests in the available ring the device has not taken yet. */
  waitingInRing() {
    return (Atomics.load(this.words, AVAIL_IDX) - Atomics.load(this.words, DEVICE_SEEN)) | 0;
  }

  /** True while the device has acknowledged a drain. */
  deviceDrained() {
    return Atomics.load(this.words, DRAINED) === 1;
  }

  /** How many requests the device had in flight when it acknowledged the drain. */
  inFlightAtDrain() {
    return Atomics.load(this.words, DRAIN_IN_FLIGHT);
  }

  // ------------------------------------------------------------------ device side

  /** True if the driver published requests the device has not taken. */
  availSince(seen) {
    return Atomics.load(this.words, AVAIL_IDX) !== seen;
  }

  /** Takes the heads published after `seen` into `out`; returns the new seen index. */
  takeAvail(seen, out) {
    // Pairs with the driver's Atomics.store in publish().
    const end = Atomics.load(this.words, AVAIL_IDX);
    for (let i = seen; i !== end; i = (i + 1) | 0) out.push(this.words[this.availBase + (i & (this.size - 1))]);
    Atomics.add(this.words, IN_FLIGHT, (end - seen) | 0);
    Atomics.store(this.words, DEVICE_SEEN, end);
    return end;
  }

  /** Reads the chain at `head`: { type, offset (bytes), data (Uint8Array over guest RAM), statusAt }. */
  parse(head) {
    const d = (i, f) => this.words[this.descBase + i * DESC_WORDS + f];
    const header = d(head, 0);
    const dataDesc = d(head, 3);
    const statusDesc = d(dataDesc, 3);
    const data = d(dataDesc, 0);
    return {
      type: this.ramView.getUint32(header, true),
      offset: Number(this.ramView.getBigUint64(header + 8, true)) * SECTOR,
      data: this.ram.subarray(data, data + d(dataDesc, 1)),
      statusAt: d(statusDesc, 0),
    };
  }

  /** Completes the request at `head`: writes its status byte and a used-ring entry. */
  complete(head, statusAt, status, len) {
    this.ram[statusAt] = status;
    const e = this.usedBase + (this.#usedIdx & (this.size - 1)) * 2;
    this.words[e] = head;
    this.words[e + 1] = len;
    this.#usedIdx = (this.#usedIdx + 1) | 0;
  }

  /** Makes the last `count` complete() calls visible to the driver. */
  publishUsed(count) {
    // Pairs with the driver's Atomics.load in takeUsed(). The index goes out before the
    // in-flight count drops, so a driver that sees no request in flight also sees every
    // completion (its drain condition checks both, in the other order).
    Atomics.store(this.words, USED_IDX, this.#usedIdx);
    Atomics.sub(this.words, IN_FLIGHT, count);
  }

  /** Records whether the device holds back new requests (drain), for the driver to see. */
  setDrained(on) {
    Atomics.store(this.words, DRAIN_IN_FLIGHT, Atomics.load(this.words, IN_FLIGHT));
    Atomics.store(this.words, DRAINED, on ? 1 : 0);
  }
}
