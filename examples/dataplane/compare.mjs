// The same workload through piscina, the worker pool people reach for today: one worker
// thread, `depth` tasks in flight, each task a 4 KiB read or write that travels by
// postMessage (piscina has no shared ring and no drain; the workload's model still
// verifies every read).
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { BLOCK, VIRTIO_BLK_T_IN } from './virtqueue.mjs';
import { Workload } from './workload.mjs';

export async function runPiscina({ image, blocks, requests, seed, depth }) {
  const work = new Workload({ blocks, total: requests, seed });
  work.createImage(image);
  const pool = new Piscina({
    filename: fileURLToPath(new URL('./piscina-disk.mjs', import.meta.url)),
    minThreads: 1,
    maxThreads: 1,
    workerData: { image },
  });
  // Start the worker before timing, as the aio side's IOThread is.
  await pool.run({ type: VIRTIO_BLK_T_IN, offset: 0 });
  const now = () => Number(process.hrtime.bigint());
  const started = now();
  const lane = async () => {
    const data = new Uint8Array(BLOCK);
    for (let req = work.next(now(), data); req; req = work.next(now(), data)) {
      const reply = await pool.run({ type: req.type, offset: req.block * BLOCK, data: req.type === VIRTIO_BLK_T_IN ? undefined : data });
      work.complete(req, true, reply, now());
    }
  };
  await Promise.all(Array.from({ length: depth }, lane));
  const seconds = (now() - started) / 1e9;
  await pool.destroy();
  return { work, seconds };
}
