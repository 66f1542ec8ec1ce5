// The dataplane: QEMU's reason for IOThreads, in JavaScript. A guest driver on the main
// thread puts 4 KiB virtio-blk requests into a virtqueue in shared memory and kicks an
// event notifier; the device, in an IOThread, takes them in its kick handler, does real
// file I/O on a disk image straight into guest memory, writes completions to the used
// ring and sets the guest's interrupt notifier; the guest completes them in a bottom half
// of its own context and refills the queue. Every read is checked against a model of the
// disk. Halfway through, the guest drains the device (external clients disabled, wait
// until nothing is in flight), checks the whole image against the model, and resumes.
//
//   node examples/dataplane/main.mjs [--size MiB] [--depth N] [--requests N] [--seed N]
//                                    [--image path] [--keep] [--compare]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AioContext, Clock, EventNotifier, IOThread, clockNs } from 'aio-node';
import { runPiscina } from './compare.mjs';
import { TailProbe } from './tail.mjs';
import { BLOCK, VIRTIO_BLK_S_OK, Virtqueue, createVirtqueue } from './virtqueue.mjs';
import { Workload } from './workload.mjs';

const { values: flags } = parseArgs({
  options: {
    size: { type: 'string', default: '16' },
    depth: { type: 'string', default: '32' },
    requests: { type: 'string', default: '40000' },
    seed: { type: 'string', default: '1' },
    image: { type: 'string' },
    keep: { type: 'boolean', default: false },
    compare: { type: 'boolean', default: false },
  },
});
const positive = (name, max) => {
  const v = Number(flags[name]);
  if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`--${name} must be an integer in 1..${max}; got ${flags[name]}`);
  return v;
};
const sizeMiB = positive('size', 65536);
const depth = positive('depth', 4096);
const requests = positive('requests', 100_000_000);
const seed = positive('seed', 2 ** 32 - 1);
const blocks = (sizeMiB * 1024 * 1024) / BLOCK;
if (depth > blocks) throw new RangeError(`--depth ${depth} exceeds the ${blocks} blocks of the image`);

const workdir = flags.image ? null : mkdtempSync(join(tmpdir(), 'aio-dataplane-'));
const image = flags.image ?? join(workdir, 'disk.img');
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Runs the workload through the IOThread dataplane; returns the workload and its seconds. */
async function runDataplane() {
  const work = new Workload({ blocks, total: requests, seed });
  const probe = new TailProbe(requests);
  work.createImage(image);
  const disk = await IOThread.create({ name: 'disk', module: new URL('./device.mjs', import.meta.url) });
  const ctx = new AioContext({ name: 'guest' });
  const shared = createVirtqueue(depth);
  const vq = new Virtqueue(shared);
  const kick = new EventNotifier();
  const interrupt = new EventNotifier();
  await disk.call('attach', { queue: shared, image, kick: kick.handle, interrupt: interrupt.handle });

  const inQueue = new Array(depth).fill(null); // slot -> request in flight
  const freeSlots = Array.from({ length: depth }, (_, i) => depth - 1 - i);
  let lastUsed = 0;

  const refill = () => {
    let added = 0;
    while (freeSlots.length > 0) {
      const slot = freeSlots[freeSlots.length - 1];
      const req = work.next(clockNs(Clock.Realtime), vq.dataOf(slot));
      if (!req) break;
      freeSlots.pop();
      probe.submitted(req);
      inQueue[slot] = req;
      vq.add(slot, req.type, req.block);
      added++;
    }
    if (added > 0) {
      vq.publish();
      kick.set();
    }
  };

  // Completions run in a bottom half of the guest's context, as a device model's
  // completion callbacks do in QEMU; the interrupt handler only schedules it.
  const complete = ctx.bh(() => {
    const now = clockNs(Clock.Realtime);
    lastUsed = vq.takeUsed(lastUsed, (slot) => {
      work.complete(inQueue[slot], vq.statusOf(slot) === VIRTIO_BLK_S_OK, vq.dataOf(slot), now);
      probe.completed(inQueue[slot]);
      inQueue[slot] = null;
      freeSlots.push(slot);
    });
    refill();
  }, { name: 'virtio-blk complete' });
  // The interrupt is the guest's own completion source, not an external client.
  ctx.setEventNotifier(interrupt, (e) => {
    e.testAndClear();
    complete.schedule();
  }, null, null, { external: false });

  const drainAt = Math.floor(requests / 2);
  let drained = false;
  const started = clockNs(Clock.Realtime);
  refill();
  while (work.completed < requests) {
    ctx.poll(true);
    if (!drained && work.completed >= drainAt) {
      const begun = performance.now();
      drain(ctx, disk, vq, work, () => lastUsed);
      probe.drained(begun);
      drained = true;
    }
  }
  const seconds = (clockNs(Clock.Realtime) - started) / 1e9;
  const device = await disk.call('stats');

  complete.delete();
  ctx.setEventNotifier(interrupt, null);
  ctx.close();
  await disk.stop();
  return { work, seconds, device, tail: await probe.explain() };
}

/**
 * bdrv_drained_begin/end, seen from the guest's thread: the device stops taking requests
 * (its kick handler is an external client), the guest waits until what the device took is
 * done and completed, checks the image, and lets the device go on.
 */
function drain(ctx, disk, vq, work, lastUsed) {
  const begun = clockNs(Clock.Realtime);
  disk.context.scheduleOneshot('drainBegin');
  // AIO_WAIT_WHILE: the device sets the interrupt notifier when it acknowledges and
  // after every batch, which wakes this poll to re-check. In-flight first, then the used
  // index: the device publishes them in the opposite order.
  ctx.waitWhile(() => !vq.deviceDrained() || vq.deviceInFlight() > 0 || vq.usedSince(lastUsed()));
  const waitedMs = (clockNs(Clock.Realtime) - begun) / 1e6;
  const heldBack = vq.waitingInRing();
  const onDisk = sha256(readFileSync(image));
  const expected = work.expectedDigest();
  if (onDisk !== expected) throw new Error(`drain: the image (sha256 ${onDisk}) does not match the guest's model (${expected})`);
  if (vq.waitingInRing() !== heldBack) throw new Error('drain: the device took requests while drained');
  console.log(
    `drain after ${work.completed} completions: the device finished the ${vq.inFlightAtDrain()} requests it had taken ` +
      `(${waitedMs.toFixed(2)} ms), and held back ${heldBack} new ones in the ring; image sha256 ${onDisk.slice(0, 16)}… matches the model`,
  );
  disk.context.scheduleOneshot('drainEnd');
}

console.log('What this shows: a virtio-blk device in an IOThread serves a guest on the main thread through a virtqueue in shared memory; kicks and interrupts are event notifiers (futex wake-ups), not messages.');
console.log('Halfway through, the guest drains the device (external clients disabled, in-flight requests finished) and checks the disk image; every read is verified against a model of the disk.');
console.log(`dataplane: ${sizeMiB} MiB image ${image}, queue depth ${depth}, ${requests} requests (about half reads), IOThread 'disk'`);
try {
  const { work, seconds, device, tail } = await runDataplane();
  console.log(`aio IOThread:    ${work.summary(seconds)}`);
  console.log(`                 ${tail}`);
  console.log(`                 verified ${work.readsVerified} reads, ${work.writes} writes; the device served them in ${device.batches} batches`);
  if (flags.compare) {
    const peer = await runPiscina({ image, blocks, requests, seed, depth });
    console.log(`piscina tasks:   ${peer.work.summary(peer.seconds)}`);
    console.log(`                 verified ${peer.work.readsVerified} reads; aio ${(peer.seconds / seconds).toFixed(2)}x the piscina rate`);
  }
  console.log('dataplane: every read verified, image consistent at the drain; done');
} finally {
  if (workdir && !flags.keep) rmSync(workdir, { recursive: true, force: true });
}
