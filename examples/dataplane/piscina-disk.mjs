// The piscina worker of the comparison: one 4 KiB pread or pwrite per task.
import { openSync, readSync, writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { BLOCK, VIRTIO_BLK_T_IN } from './virtqueue.mjs';

const fd = openSync(workerData.image, 'r+');

export default function serve({ type, offset, data }) {
  if (type === VIRTIO_BLK_T_IN) {
    const out = new Uint8Array(BLOCK);
    readSync(fd, out, 0, BLOCK, offset);
    return out;
  }
  writeSync(fd, data, 0, BLOCK, offset);
  return null;
}
