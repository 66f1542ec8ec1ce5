// The workload both drivers run (the aio virtqueue and the piscina comparison): random
// 4 KiB reads and writes over the disk image, never two at once on the same block, and a
// model of what every block must hold, so every read is verified and the whole image can
// be checked at a drain.
//
// A block's contents are a function of (block, version): a write bumps the version, so a
// read that returns stale or torn data does not match.
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { Histogram, SCALE_US } from 'aio-node';
import { BLOCK, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT } from './virtqueue.mjs';

const WORDS = BLOCK / 4;

const seedOf = (block, version) => (Math.imul(block + 1, 0x9e3779b1) ^ Math.imul(version + 1, 0x85ebca77)) >>> 0;
const wordAt = (seed, i) => (seed + Math.imul(i, 0x27d4eb2f)) >>> 0;
const wordsOf = (bytes) => new Uint32Array(bytes.buffer, bytes.byteOffset, WORDS);

/** Fills `bytes` (one block) with the contents of `block` at `version`. */
export function fillBlock(bytes, block, version) {
  const w = wordsOf(bytes);
  const seed = seedOf(block, version);
  for (let i = 0; i < WORDS; i++) w[i] = wordAt(seed, i);
}

function blockMatches(bytes, block, version) {
  const w = wordsOf(bytes);
  const seed = seedOf(block, version);
  for (let i = 0; i < WORDS; i++) if (w[i] !== wordAt(seed, i)) return false;
  return true;
}

export class Workload {
  /** `blocks` on the image, `total` requests, half of them reads, chosen by `seed`. */
  constructor({ blocks, total, seed }) {
    this.blocks = blocks;
    this.total = total;
    this.versions = new Uint32Array(blocks);
    this.busy = new Uint8Array(blocks);
    this.submitted = 0;
    this.completed = 0;
    this.readsVerified = 0;
    this.writes = 0;
    this.latency = new Histogram();
    this.rng = seed >>> 0 || 1;
  }

  #random() {
    // xorshift32: the same requests for both drivers, run after run.
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng;
  }

  /** Writes the initial image: every block at version 0. */
  createImage(path) {
    const chunk = new Uint8Array(BLOCK * 256);
    const fd = openSync(path, 'w');
    try {
      for (let b = 0; b < this.blocks; b += 256) {
        const n = Math.min(256, this.blocks - b);
        for (let i = 0; i < n; i++) fillBlock(chunk.subarray(i * BLOCK, (i + 1) * BLOCK), b + i, 0);
        writeSync(fd, chunk, 0, n * BLOCK, b * BLOCK);
      }
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The next request, or null once all were submitted: { type, block, version, startNs }.
   * For a write, `data` (one block) is filled with the new contents.
   */
  next(nowNs, data) {
    if (this.submitted === this.total) return null;
    let block = this.#random() % this.blocks;
    while (this.busy[block]) block = (block + 1) % this.blocks;
    this.busy[block] = 1;
    this.submitted++;
    const type = this.#random() & 1 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
    const version = type === VIRTIO_BLK_T_OUT ? this.versions[block] + 1 : this.versions[block];
    if (type === VIRTIO_BLK_T_OUT) fillBlock(data, block, version);
    return { type, block, version, startNs: nowNs };
  }

  /** Records the completion of `req`; `data` is what a read returned. Throws on bad data. */
  complete(req, ok, data, nowNs) {
    if (!ok) throw new Error(`request on block ${req.block} failed`);
    if (req.type === VIRTIO_BLK_T_IN) {
      if (!blockMatches(data, req.block, req.version)) {
        throw new Error(`read of block ${req.block} returned data that is not version ${req.version}`);
      }
      this.readsVerified++;
    } else {
      this.versions[req.block] = req.version;
      this.writes++;
    }
    this.busy[req.block] = 0;
    this.completed++;
    this.latency.record(nowNs - req.startNs);
  }

  /** sha256 of the image as the model says it must be now. */
  expectedDigest() {
    const hash = createHash('sha256');
    const bytes = new Uint8Array(BLOCK);
    for (let b = 0; b < this.blocks; b++) {
      fillBlock(bytes, b, this.versions[b]);
      hash.update(bytes);
    }
    return hash.digest('hex');
  }

  /** One line: IOPS and latency percentiles in microseconds. */
  summary(seconds) {
    const s = this.latency.summary();
    const us = (ns) => (ns / SCALE_US).toFixed(1);
    const iops = Math.round(this.completed / seconds).toLocaleString('en-US');
    return `${this.completed} requests in ${seconds.toFixed(2)} s = ${iops} IOPS; latency p50 ${us(s.p50)} us, p90 ${us(s.p90)} us, p99 ${us(s.p99)} us, max ${us(s.max)} us`;
  }
}
