#!/usr/bin/env node
// The cross-runtime benchmark suite (`npm run bench`):
//   node bench/run.mjs [--runtime node,bun,deno,chromium|all] [--quick]
//                      [--only group,group] [--entry regex] [--verbose]
//   node bench/run.mjs --report <stamp>   (rewrites the reports from bench/results/<stamp>-*.json)
// Runs the suite on each runtime in its own process (Node directly; Bun through
// node_modules/.bin/bun; Deno through node_modules/.bin/deno run -A
// --node-modules-dir=manual; Chromium through playwright-core and a static server on
// 127.0.0.1 with COOP/COEP), then writes bench/results/<date>-<runtime>.json (machine,
// runtime versions, every sample), bench/results/latest.md and bench/results/latest.svg,
// and prints a table. The packages must be built first (`npx turbo run build`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleTable, markdown, readmeSummary, RUNTIME_ORDER, svgChart } from './lib/report.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (args.includes('--help') || args.includes('-h')) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 11).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const quick = args.includes('--quick');
const runtimeArg = opt('--runtime') ?? 'all';
const runtimes = runtimeArg === 'all' ? RUNTIME_ORDER : runtimeArg.split(',');
for (const r of runtimes) {
  if (!RUNTIME_ORDER.includes(r)) {
    console.error(`unknown runtime '${r}' (one of ${RUNTIME_ORDER.join(', ')}, or all)`);
    process.exit(2);
  }
}
const passArgs = [];
if (quick) passArgs.push('--quick');
for (const o of ['--only', '--entry']) if (opt(o)) passArgs.push(o, opt(o));
if (args.includes('--verbose')) passArgs.push('--verbose');

// The built packages are what every runtime imports.
const missing = ['aio-core', 'aio-node', 'aio-bun', 'aio-deno', 'aio-browser'].filter((p) => !existsSync(join(ROOT, 'packages', p, 'dist', 'index.js')));
if (missing.length) {
  console.error(`bench: ${missing.join(', ')} not built; run \`npx turbo run build\` (npm run bench does) first`);
  process.exit(1);
}

const bin = (name) => join(ROOT, 'node_modules', '.bin', name);
const suite = join(ROOT, 'bench', 'suite', 'main.mjs');
const COMMANDS = {
  node: () => [process.execPath, [suite]],
  bun: () => [bin('bun'), [suite]],
  deno: () => [bin('deno'), ['run', '-A', '--node-modules-dir=manual', suite]],
  chromium: () => [process.execPath, [join(ROOT, 'bench', 'browser', 'run-browser.mjs')]],
};
// Wall-clock limits per runtime pass (a hung peer must not hang the suite).
const LIMIT_S = quick ? 150 : 330;

const cpus = os.cpus();
const machine = {
  cpu: cpus[0]?.model?.trim() ?? 'unknown',
  cores: os.availableParallelism?.() ?? cpus.length,
  memoryBytes: os.totalmem(),
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  hostname: os.hostname(),
  source: sourceRevision(),
};

/** The commit measured, with '+changes' when the work tree differs from it; null outside git. */
function sourceRevision() {
  const git = (...a) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' });
  const head = git('rev-parse', '--short=12', 'HEAD');
  if (head.status !== 0) return null;
  const changed = git('status', '--porcelain', '--untracked-files=no', '--', 'packages', 'bench').stdout.trim() !== '';
  return `${head.stdout.trim()}${changed ? '+changes' : ''}`;
}

function runPass(runtime, outFile) {
  const [cmd, cmdArgs] = COMMANDS[runtime]();
  const started = Date.now();
  return new Promise((resolve) => {
    if (!existsSync(cmd)) {
      resolve({ failure: `${cmd} not found (npm install)` });
      return;
    }
    const child = spawn(cmd, [...cmdArgs, ...passArgs, '--out', outFile], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let tail = '';
    let buf = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const l of lines) {
        process.stderr.write(`[${runtime} ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${l}\n`);
        tail = l;
      }
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.stderr.write(`[${runtime}] over ${LIMIT_S} s: stopping the pass\n`);
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000).unref();
    }, LIMIT_S * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ failure: `stopped after ${LIMIT_S} s (last line: ${tail.trim()})` });
      else if (code !== 0) resolve({ failure: `exited with ${code ?? signal} (last line: ${tail.trim()})` });
      else resolve({});
    });
  });
}

mkdirSync(RESULTS, { recursive: true });
const stamp = `${new Date().toISOString().slice(0, 16).replace(':', '')}Z`;
const docs = [];
const t0 = Date.now();
// --report: the reports of a run already made (after a change to the reports or targets).
const reportOf = opt('--report');
if (reportOf !== undefined) {
  for (const runtime of RUNTIME_ORDER) {
    const file = join(RESULTS, `${reportOf}-${runtime}.json`);
    if (existsSync(file)) docs.push(JSON.parse(readFileSync(file, 'utf8')));
  }
  if (docs.length === 0) {
    console.error(`bench: no bench/results/${reportOf}-<runtime>.json`);
    process.exit(2);
  }
  writeReports(docs, docs[0].machine ?? machine, docs.length === RUNTIME_ORDER.length && !docs[0].quick);
  process.exit(0);
}
console.error(`bench: ${quick ? 'quick pass' : 'full run'} on ${runtimes.join(', ')} — ${machine.cpu}, ${machine.cores} cores`);
for (const runtime of runtimes) {
  // Written by the pass as it goes (bench/results/*.tmp is git-ignored).
  const partial = join(RESULTS, `partial-${runtime}.tmp`);
  rmSync(partial, { force: true });
  console.error(`\n=== ${runtime} ===`);
  const loadBefore = os.loadavg();
  const { failure } = await runPass(runtime, partial);
  let doc = null;
  if (existsSync(partial)) {
    try {
      doc = JSON.parse(readFileSync(partial, 'utf8'));
    } catch {}
    rmSync(partial, { force: true });
  }
  if (!doc) doc = { runtime, runtimeVersion: {}, quick, startedAt: new Date().toISOString(), elapsedMs: 0, complete: false, groups: [] };
  if (failure) doc.failure = failure;
  // Other work on the machine skews every figure: keep the load averages with the results.
  doc.machine = { ...machine, loadavgBefore: loadBefore, loadavgAfter: os.loadavg() };
  doc.command = `node bench/run.mjs ${args.join(' ')}`.trim();
  const file = join(RESULTS, `${stamp}-${runtime}.json`);
  writeFileSync(file, `${JSON.stringify(doc, null, 1)}\n`);
  console.error(`[${runtime}] ${failure ? `FAILED: ${failure}` : 'done'} → ${file.slice(ROOT.length)}`);
  docs.push(doc);
}

writeReports(docs, machine, !quick && runtimeArg === 'all');
console.log(consoleTable(docs));
console.log(`\nbench: ${((Date.now() - t0) / 1000).toFixed(0)} s; wrote bench/results/${stamp}-{${runtimes.join(',')}}.json, bench/results/latest.md, bench/results/latest.svg`);
process.exit(docs.some((d) => d.failure) ? 1 : 0);

/**
 * Writes latest.md and latest.svg for `docs`; with `intoReadme` (a full run on every
 * runtime, what the README reports) also the README's summary block.
 */
function writeReports(docs, machine, intoReadme) {
  writeFileSync(join(RESULTS, 'latest.md'), markdown(docs, machine));
  writeFileSync(join(RESULTS, 'latest.svg'), svgChart(docs, machine));
  if (!intoReadme) return;
  const readme = join(ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const begin = '<!-- bench-summary:begin (written by bench/run.mjs) -->';
  const end = '<!-- bench-summary:end -->';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) writeFileSync(readme, `${text.slice(0, i + begin.length)}\n${readmeSummary(docs, machine)}\n${text.slice(j)}`);
}
