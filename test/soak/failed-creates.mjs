// Soak check, run by hand (too slow for `npm test`): N IOThread.create() calls in a row
// that fail (the module's setup throws, or the module is missing) leave the process able
// to create contexts and IOThreads, and the process exits by itself afterwards.
//   node test/soak/failed-creates.mjs [N=10000] [parallel=8]
//   bun test/soak/failed-creates.mjs ... / deno run -A test/soak/failed-creates.mjs ...
const runtime = globalThis.Bun ? 'bun' : globalThis.Deno ? 'deno' : 'node';
const { AioContext, IOThread } = await import(`aio-${runtime}`);
const args = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2);
const total = Number(args[0] ?? 10_000);
const parallel = Number(args[1] ?? 8);
const throws = new URL('../conformance/workers/fault-setup-throws.mjs', import.meta.url);
const missing = new URL('../conformance/workers/no-such-module.mjs', import.meta.url);
const works = new URL('../conformance/workers/fault-module.mjs', import.meta.url);

const started = performance.now();
let failed = 0;
for (let done = 0; done < total; ) {
  const batch = Math.min(parallel, total - done);
  const results = await Promise.allSettled(
    Array.from({ length: batch }, (_, i) => IOThread.create({ module: (done + i) % 2 ? missing : throws })),
  );
  for (const r of results) {
    if (r.status === 'fulfilled') throw new Error('a create that should fail succeeded');
    failed++;
  }
  done += batch;
  if (done % 1000 === 0) console.log(`${done} failed creates, ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
// More contexts than the table has slots would allow if any failed create had leaked one.
const contexts = Array.from({ length: 1000 }, (_, i) => new AioContext({ name: `after-${i}` }));
for (const c of contexts) c.close();
const t = await IOThread.create({ module: works });
const sum = await t.call('add', 20, 22);
await t.stop();
console.log(`${runtime}: ${failed} failed creates in ${((performance.now() - started) / 1000).toFixed(1)} s; then 1000 contexts and an IOThread (add -> ${sum}): ok`);
