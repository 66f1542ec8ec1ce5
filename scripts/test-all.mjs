#!/usr/bin/env node
/**
 * `npm test`: the conformance suite on node, bun, deno and Chromium, then the suite's type
 * check, each example's test.mjs, the packaging test and the API reference build. Prints one summary table and
 * fails if any run fails or if the runtimes did not run the same number of conformance tests.
 *
 * Chromium may be skipped only where /usr/bin/chromium is absent and AIO_REQUIRE_BROWSER
 * is not set (CI sets it); the skip is announced loudly.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(root, 'test', '.results');
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });
const bin = (name) => join(root, 'node_modules', '.bin', name);
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', FORCE_COLOR: process.env.FORCE_COLOR ?? '1' };

const reportOf = (name) => join(results, `${name.replace(/[^a-z0-9-]+/gi, '-')}.json`);
function vitestArgs(project, name) {
  return ['run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${reportOf(name)}`];
}

const runs = [
  { name: 'node', cmd: process.execPath, args: [vitest, ...vitestArgs('server', 'node')] },
  { name: 'bun', cmd: bin('bun'), args: ['--bun', vitest, ...vitestArgs('server', 'bun')] },
  { name: 'deno', cmd: bin('deno'), args: ['run', '-A', '--node-modules-dir=manual', vitest, ...vitestArgs('server', 'deno')] },
  { name: 'chromium', cmd: process.execPath, args: [vitest, ...vitestArgs('chromium', 'chromium')], browser: true },
  // Adapter-specific tests (not part of the same-count conformance comparison).
  { name: 'aio-node adapter', cmd: process.execPath, args: [vitest, ...vitestArgs('adapter-node', 'aio-node adapter')], adapter: true },
  { name: 'aio-bun adapter', cmd: bin('bun'), args: ['--bun', vitest, ...vitestArgs('adapter-bun', 'aio-bun adapter')], adapter: true },
  {
    name: 'aio-deno adapter',
    cmd: bin('deno'),
    args: ['run', '-A', '--node-modules-dir=manual', vitest, ...vitestArgs('adapter-deno', 'aio-deno adapter')],
    adapter: true,
  },
];

const summary = [];
let failed = false;
for (const run of runs) {
  if (run.browser && !existsSync('/usr/bin/chromium')) {
    const msg = 'CHROMIUM IS NOT INSTALLED (/usr/bin/chromium): THE BROWSER CONFORMANCE RUN IS SKIPPED. Install it with: apt-get install -y chromium';
    console.error(`\n${'!'.repeat(msg.length)}\n${msg}\n${'!'.repeat(msg.length)}\n`);
    if (process.env.AIO_REQUIRE_BROWSER === '1') {
      console.error('AIO_REQUIRE_BROWSER=1: a missing browser is a failure.');
      failed = true;
    }
    summary.push({ runtime: run.name, status: 'SKIPPED (no chromium)', tests: '-', passed: '-', failed: '-', seconds: '-' });
    continue;
  }
  console.log(run.adapter ? `\n=== ${run.name} tests ===` : `\n=== conformance suite on ${run.name} ===`);
  const started = Date.now();
  const r = spawnSync(run.cmd, run.args, { cwd: root, stdio: 'inherit', env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  let report = null;
  try {
    report = JSON.parse(readFileSync(reportOf(run.name), 'utf8'));
  } catch {}
  const ok = r.status === 0 && report?.success === true;
  if (!ok) failed = true;
  summary.push({
    runtime: run.name,
    adapter: run.adapter === true,
    status: ok ? 'passed' : `FAILED (exit ${r.status ?? r.signal})`,
    tests: report?.numTotalTests ?? '?',
    passed: report?.numPassedTests ?? '?',
    failed: report?.numFailedTests ?? '?',
    seconds,
  });
}

// Every example with a test.mjs is tested too (each exits 0 when its checks hold).
const exampleSteps = readdirSync(join(root, 'examples'))
  .filter((dir) => existsSync(join(root, 'examples', dir, 'test.mjs')))
  .sort()
  .map((dir) => ({ name: `example ${dir}`, args: [join(root, 'examples', dir, 'test.mjs')] }));

for (const step of [
  // The packages are type-checked by their declaration build; this checks the suite's
  // use of the public API against the shipped types (DOM and Node typings included).
  { name: 'types (npm run typecheck)', args: [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'test', 'tsconfig.json')] },
  // Each package's sources under its own runtime's typings: aio-core's sources must
  // compile where a runtime declares its globals differently (MessagePort under Node).
  ...readdirSync(join(root, 'packages'))
    .sort()
    .map((pkg) => ({ name: `types of ${pkg}`, args: [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'packages', pkg, 'tsconfig.json')] })),
  { name: 'aio-core layers import one way', args: [join(root, 'scripts', 'check-layers.mjs')] },
  { name: 'unused files, exports, dependencies (knip)', args: [join(root, 'node_modules', 'knip', 'bin', 'knip.js'), '--no-progress'] },
  { name: 'lint (biome)', args: [join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome'), 'lint', '--error-on-warnings'] },
  ...exampleSteps,
  { name: 'packaging (npm pack, install, run)', args: [join(root, 'scripts', 'pack-test.mjs')] },
  { name: 'package lint (publint, attw --profile esm-only)', args: [join(root, 'scripts', 'package-lint.mjs')] },
  { name: 'JSR (deno publish --dry-run, offline)', args: [join(root, 'scripts', 'jsr.mjs'), '--dry-run'] },
  { name: 'API reference (npm run docs)', args: [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--treatWarningsAsErrors'] },
]) {
  console.log(`\n=== ${step.name} ===`);
  const started = Date.now();
  const r = spawnSync(process.execPath, step.args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) failed = true;
  summary.push({ runtime: step.name, status: r.status === 0 ? 'passed' : 'FAILED', tests: '', passed: '', failed: '', seconds: ((Date.now() - started) / 1000).toFixed(1) });
}

const counts = new Set(summary.filter((s) => typeof s.tests === 'number' && !s.adapter).map((s) => s.tests));
if (counts.size > 1) {
  console.error('\nThe runtimes ran different numbers of conformance tests:', [...counts].join(', '));
  failed = true;
}
console.log('\n=== summary ===');
console.table(summary.map(({ adapter, ...row }) => row));
console.log(failed ? 'npm test: FAILED' : 'npm test: every run passed');
process.exit(failed ? 1 : 0);
