// The browser pass, on the page: runs every entry that does not block here (the page's
// main thread may not Atomics.wait), then the blocking entries in a dedicated worker
// (driver-worker.mjs), and reports both to the runner through exposed functions.
import { runtimeVersion } from '../lib/platform.mjs';
import { runSuite } from '../suite/suite.mjs';

const params = new URLSearchParams(location.search);
const opts = {
  quick: params.has('quick'),
  only: params.get('only')?.split(','),
  entryText: params.get('entry') ?? undefined,
  verbose: params.has('verbose'),
};
const log = (line) => globalThis.__benchLog?.(line);
const startedAt = new Date().toISOString();
const t0 = performance.now();
const doc = (groups, complete) => ({
  runtime: 'chromium',
  runtimeVersion: runtimeVersion(),
  crossOriginIsolated: globalThis.crossOriginIsolated,
  quick: opts.quick,
  startedAt,
  elapsedMs: performance.now() - t0,
  complete,
  groups,
});

/** Appends the worker pass's entries to the page pass's groups of the same id. */
function merge(pageGroups, workerGroups) {
  const out = pageGroups.map((g) => ({ ...g, entries: [...g.entries] }));
  for (const wg of workerGroups) {
    const g = out.find((x) => x.id === wg.id);
    if (g) {
      g.entries.push(...wg.entries);
      g.elapsedMs += wg.elapsedMs;
    } else out.push(wg);
  }
  return out;
}

try {
  if (!globalThis.crossOriginIsolated) throw new Error('the page is not cross-origin isolated (COOP/COEP headers missing)');
  const entry = opts.entryText ? new RegExp(opts.entryText, 'i') : undefined;
  log('chromium: page pass (main thread: entries that do not block)');
  const page = await runSuite({
    ...opts,
    entry,
    log,
    skipBlocking: true,
    thread: 'page',
    onGroup: (_, all) => globalThis.__benchPartial?.(JSON.stringify(doc(all, false))),
  });
  log('chromium: worker pass (entries that block, in a dedicated worker)');
  const worker = new Worker(new URL('./driver-worker.mjs', import.meta.url), { type: 'module' });
  const workerResults = await new Promise((resolve, reject) => {
    worker.addEventListener('message', (e) => {
      const m = e.data;
      if (m.ready) worker.postMessage(opts);
      else if (m.log) log(m.log);
      else if (m.done) resolve(m.done.results);
      else if (m.error) reject(new Error(m.error));
    });
    worker.addEventListener('error', (e) => reject(new Error(`driver worker: ${e.message}`)));
  });
  worker.terminate();
  const final = { ...doc(merge(page.results, workerResults), true), settings: page.settings };
  globalThis.__benchDone(JSON.stringify(final));
} catch (err) {
  globalThis.__benchFail?.(String(err?.stack ?? err));
}
