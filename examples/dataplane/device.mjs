// The device: a virtio-blk-style disk served by an IOThread (QEMU's dataplane). Loaded
// into the IOThread by main.mjs; everything here runs in that thread's AioContext.
//
// The guest's kick is an external event source of the thread's context: its handler
// takes new requests from the available ring. A bottom half does the file I/O straight
// into guest memory (pread/pwrite on views of the SharedArrayBuffer: no copy), a batch
// per run, writes completions to the used ring and sets the guest's interrupt notifier.
// A drain disables external sources, so no new request is taken, while the bottom half,
// which is not external, finishes the ones already taken.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { EventNotifier, registerFunction } from 'aio-node';
import { VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, Virtqueue } from './virtqueue.mjs';

/** Requests served per bottom-half run: enough to amortise the notify, few enough to yield. */
const BATCH = 16;

let disk = null;

function attach(ctx, { queue, image, kick, interrupt }) {
  if (disk) throw new Error('device: already attached');
  const vq = new Virtqueue(queue);
  const fd = openSync(image, 'r+');
  const kickNotifier = EventNotifier.from(kick);
  const interruptNotifier = EventNotifier.from(interrupt);
  const pending = [];
  let seen = 0;
  const stats = { reads: 0, writes: 0, batches: 0, errors: 0 };

  const serve = ctx.bh(() => {
    const n = Math.min(BATCH, pending.length);
    for (const head of pending.splice(0, n)) {
      const req = vq.parse(head);
      let status = VIRTIO_BLK_S_OK;
      let written = 1; // the status byte
      try {
        if (req.type === VIRTIO_BLK_T_IN) {
          written += readSync(fd, req.data, 0, req.data.length, req.offset);
          stats.reads++;
        } else if (req.type === VIRTIO_BLK_T_OUT) {
          writeSync(fd, req.data, 0, req.data.length, req.offset);
          stats.writes++;
        } else {
          status = VIRTIO_BLK_S_IOERR;
        }
      } catch {
        status = VIRTIO_BLK_S_IOERR;
        stats.errors++;
      }
      vq.complete(head, req.statusAt, status, written);
    }
    vq.publishUsed(n);
    stats.batches++;
    interruptNotifier.set();
    if (pending.length > 0) serve.schedule();
  }, { name: 'virtio-blk serve' });

  const takeRequests = () => {
    const before = pending.length;
    seen = vq.takeAvail(seen, pending);
    if (pending.length > before) serve.schedule();
  };

  // The kick handler is external (the default): disableExternal() holds it back. Its
  // onPoll lets adaptive polling see new requests in the ring before any kick arrives,
  // as QEMU's virtqueue polling does.
  ctx.setEventNotifier(
    kickNotifier,
    (e) => {
      e.testAndClear();
      takeRequests();
    },
    () => vq.availSince(seen),
    takeRequests,
  );

  disk = {
    stats,
    drainBegin() {
      ctx.disableExternal();
      vq.setDrained(true);
      interruptNotifier.set();
    },
    drainEnd() {
      vq.setDrained(false);
      ctx.enableExternal();
    },
    detach() {
      ctx.setEventNotifier(kickNotifier, null);
      serve.delete();
      closeSync(fd);
      disk = null;
    },
  };
}

export function setup(ctx) {
  registerFunction('attach', (config) => attach(ctx, config));
  // Fire-and-forget oneshots from the guest: the guest's thread keeps polling while it waits.
  registerFunction('drainBegin', () => disk.drainBegin());
  registerFunction('drainEnd', () => disk.drainEnd());
  registerFunction('stats', () => disk?.stats ?? null);
}

export function teardown() {
  disk?.detach();
}
