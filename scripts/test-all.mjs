#!/usr/bin/env node
/**
 * `npm test`: the conformance suite on node, bun, deno and Chromium, then the suite's type
 * check, each example's test.mjs, the packaging test, the bundler test and the API reference build. Fails if
 * any run fails or if the runtimes did not run the same number of conformance tests.
 *
 * Output: one line per run (tests, passes, skips, seconds); a run's own output is shown
 * only when it fails (AIO_TEST_VERBOSE=1 shows every run's output as it goes). Colours
 * only on a terminal.
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
const verbose = process.env.AIO_TEST_VERBOSE === '1';
const colour = process.stdout.isTTY === true;
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', FORCE_COLOR: colour ? '1' : '0' };
if (!colour) env.NO_COLOR = '1';
const green = (text) => (colour ? `\x1b[32m${text}\x1b[0m` : text);
const red = (text) => (colour ? `\x1b[31m${text}\x1b[0m` : text);

/**
 * Runs one step: its output is kept and printed only if it fails (or with
 * AIO_TEST_VERBOSE=1, as it goes). Returns the exit status.
 */
function runStep(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
  if (r.error) console.error(r.error);
  return { status: r.status ?? (r.signal ? `signal ${r.signal}` : 'no status'), output: verbose ? '' : `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Prints a step's result line, and its output when it failed. */
function report(ok, line, output) {
  console.log(`${ok ? green('ok  ') : red('FAIL')} ${line}`);
  if (!ok && output) console.log(`${output.trimEnd()}\n${red(`---- end of the output of: ${line}`)}`);
}

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

const begun = Date.now();
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
    console.log(`SKIP conformance on ${run.name}: no chromium`);
    continue;
  }
  const started = Date.now();
  const r = runStep(run.cmd, run.args);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  let result = null;
  try {
    result = JSON.parse(readFileSync(reportOf(run.name), 'utf8'));
  } catch {}
  const ok = r.status === 0 && result?.success === true;
  if (!ok) failed = true;
  summary.push({ runtime: run.name, adapter: run.adapter === true, tests: result?.numTotalTests ?? '?' });
  const counts = result
    ? `${result.numTotalTests} tests: ${result.numPassedTests} passed, ${result.numFailedTests} failed, ${result.numPendingTests + result.numTodoTests} skipped`
    : 'no test report';
  report(ok, `${run.adapter ? run.name : `conformance on ${run.name}`}: ${counts}, ${seconds} s${ok ? '' : ` (exit ${r.status})`}`, r.output);
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
  { name: 'README snippets run', args: [join(root, 'scripts', 'readme-snippets.mjs')] },
  { name: 'bundlers (Vite and esbuild builds run in Chromium)', args: [join(root, 'scripts', 'bundle-test.mjs')] },
  { name: 'package lint (publint, attw --profile esm-only)', args: [join(root, 'scripts', 'package-lint.mjs')] },
  { name: 'JSR (deno publish --dry-run, offline)', args: [join(root, 'scripts', 'jsr.mjs'), '--dry-run'] },
  { name: 'API reference (npm run docs)', args: [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--treatWarningsAsErrors'] },
  { name: 'API examples (one per class, type-checked)', args: [join(root, 'scripts', 'check-api-examples.mjs')] },
]) {
  const started = Date.now();
  const r = runStep(process.execPath, step.args);
  if (r.status !== 0) failed = true;
  report(r.status === 0, `${step.name}, ${((Date.now() - started) / 1000).toFixed(1)} s${r.status === 0 ? '' : ` (exit ${r.status})`}`, r.output);
}

const counts = new Set(summary.filter((s) => !s.adapter).map((s) => s.tests));
if (counts.size > 1) {
  console.error(red(`The runtimes ran different numbers of conformance tests: ${summary.filter((s) => !s.adapter).map((s) => `${s.runtime} ${s.tests}`).join(', ')}`));
  failed = true;
}
console.log(failed ? red('npm test: FAILED') : green(`npm test: every run passed (${((Date.now() - begun) / 1000).toFixed(0)} s)`));
process.exit(failed ? 1 : 0);
