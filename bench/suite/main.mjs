// Entry of one runtime's pass on Node, Bun and Deno (bench/run.mjs starts it; it can be
// run alone too):
//   node bench/suite/main.mjs [--quick] [--only roundtrip,bh] [--out file.json]
//   node_modules/.bin/bun bench/suite/main.mjs ...
//   node_modules/.bin/deno run -A --node-modules-dir=manual bench/suite/main.mjs ...
// Progress goes to stderr; the results (JSON) to --out, rewritten after every group, or
// to stdout at the end.
import { runtime, runtimeVersion } from '../lib/platform.mjs';
import { runSuite } from './suite.mjs';

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const only = opt('--only')?.split(',');
const out = opt('--out');
const entry = opt('--entry') ? new RegExp(opt('--entry'), 'i') : undefined;
const verbose = args.includes('--verbose');
const fs = await import('node:fs');

const log = (line) => {
  if (globalThis.Deno) Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));
  else process.stderr.write(`${line}\n`);
};

const startedAt = new Date().toISOString();
const t0 = performance.now();
const doc = (groups, done) => ({
  runtime,
  runtimeVersion: runtimeVersion(),
  quick,
  startedAt,
  elapsedMs: performance.now() - t0,
  complete: done,
  groups,
});
const write = (d) => {
  if (out) fs.writeFileSync(out, JSON.stringify(d, null, 1));
};

let exitCode = 0;
try {
  const { settings, results } = await runSuite({
    quick,
    only,
    entry,
    verbose,
    log,
    onGroup: (_, all) => write({ ...doc(all, false) }),
  });
  const final = { ...doc(results, true), settings };
  write(final);
  if (!out) console.log(JSON.stringify(final));
} catch (err) {
  log(`suite failed: ${err?.stack ?? err}`);
  exitCode = 1;
}
// Threads a failed entry may have left behind must not keep the process alive.
if (globalThis.Deno) Deno.exit(exitCode);
else process.exit(exitCode);
