#!/usr/bin/env node
// The cross-runtime benchmark suite (`npm run bench`):
//   node bench/run.mjs [--runtime node,bun,deno,chromium|all] [--quick]
//                      [--only group,group] [--entry regex] [--verbose]
//   node bench/run.mjs --report <stamp>   (rewrites the reports from bench/results/<stamp>-*.json)
// Runs each group of the suite on each runtime in a fresh process (Node directly; Bun
// through node_modules/.bin/bun; Deno through node_modules/.bin/deno run -A
// --node-modules-dir=manual; Chromium through playwright-core, a fresh browser and a static
// server on 127.0.0.1 with COOP/COEP). A full run on every runtime writes
// bench/results/<date>-<runtime>.json (machine, runtime versions, every sample),
// latest.md, latest.svg and the README's summary; any other run writes
// partial-<runtime>.json, partial.md and partial.svg there (not tracked). Then it prints
// a table. The packages must be built first (`npx turbo run build`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleTable, markdown, readmeSummary, RUNTIME_ORDER, svgChart } from './lib/report.mjs';
import { GROUP_IDS } from './suite/group-ids.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (args.includes('--help') || args.includes('-h')) {
  // The header comment, up to the first line that is not one.
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
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
const only = opt('--only')?.split(',');
const unknownGroups = only?.filter((g) => !GROUP_IDS.includes(g)) ?? [];
if (unknownGroups.length) {
  console.error(`unknown group '${unknownGroups.join("', '")}' (one of ${GROUP_IDS.join(', ')})`);
  process.exit(2);
}
// One process per group: what a group leaves behind (the JIT's type feedback at shared
// call sites, a grown heap, threads winding down) skewed the groups after it: the BH entry
// on Bun took 32 ns a dispatch alone and 41-47 ns after the call groups. The entries of a
// group (aio and its peers) still share their process, so their ratios stay side by side.
const groups = GROUP_IDS.filter((g) => !only || only.includes(g));
const passArgs = [];
if (quick) passArgs.push('--quick');
if (opt('--entry')) passArgs.push('--entry', opt('--entry'));
if (args.includes('--verbose')) passArgs.push('--verbose');
const fullRun = !quick && runtimeArg === 'all' && !only && !opt('--entry');

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
// Wall-clock limit of one group's process (a hung peer must not hang the suite).
const LIMIT_S = quick ? 90 : 180;

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

/** Runs one group on `runtime` in a fresh process, which writes its document to `outFile`. */
function runGroupProcess(runtime, group, outFile, started) {
  const [cmd, cmdArgs] = COMMANDS[runtime]();
  return new Promise((resolve) => {
    if (!existsSync(cmd)) {
      resolve({ failure: `${cmd} not found (npm install)` });
      return;
    }
    const child = spawn(cmd, [...cmdArgs, ...passArgs, '--only', group, '--out', outFile], {
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
      process.stderr.write(`[${runtime}] ${group} over ${LIMIT_S} s: stopping its process\n`);
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000).unref();
    }, LIMIT_S * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ failure: `${group}: stopped after ${LIMIT_S} s (last line: ${tail.trim()})` });
      else if (code !== 0) resolve({ failure: `${group}: exited with ${code ?? signal} (last line: ${tail.trim()})` });
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
  writeReports(docs, docs[0].machine ?? machine, docs.length === RUNTIME_ORDER.length && !docs[0].quick && !/--only|--entry/.test(docs[0].command ?? ''));
  process.exit(0);
}
console.error(`bench: ${quick ? 'quick pass' : 'full run'} on ${runtimes.join(', ')} — ${machine.cpu}, ${machine.cores} cores`);
for (const runtime of runtimes) {
  console.error(`\n=== ${runtime} ===`);
  const loadBefore = os.loadavg();
  const { doc, failures } = await runRuntime(runtime);
  if (failures.length) doc.failure = failures.join('; ');
  // Other work on the machine skews every figure: keep the load averages with the results.
  doc.machine = { ...machine, loadavgBefore: loadBefore, loadavgAfter: os.loadavg() };
  doc.command = `node bench/run.mjs ${args.join(' ')}`.trim();
  // A full run is kept (and cited); any other run only until the next one (not tracked).
  const file = join(RESULTS, fullRun ? `${stamp}-${runtime}.json` : `partial-${runtime}.json`);
  writeFileSync(file, `${JSON.stringify(doc, null, 1)}\n`);
  console.error(`[${runtime}] ${failures.length ? `FAILED: ${failures.join("; ")}` : "done"} → ${file.slice(ROOT.length)}`);
  docs.push(doc);
}

writeReports(docs, machine, fullRun);
console.log(consoleTable(docs));
const written = fullRun ? `${stamp}-{${runtimes.join(',')}}.json, bench/results/latest` : `partial-{${runtimes.join(',')}}.json, bench/results/partial`;
console.log(`\nbench: ${((Date.now() - t0) / 1000).toFixed(0)} s; wrote bench/results/${written}.{md,svg}`);
process.exit(docs.some((d) => d.failure) ? 1 : 0);

/**
 * Runs every selected group on `runtime`, each in its own process, and merges their
 * documents into one; a group that fails is recorded and the next one still runs.
 */
async function runRuntime(runtime) {
  const started = Date.now();
  const failures = [];
  let doc = null;
  for (const group of groups) {
    // Written by the process as it goes (bench/results/*.tmp is git-ignored).
    const partial = join(RESULTS, `partial-${runtime}.tmp`);
    rmSync(partial, { force: true });
    const { failure } = await runGroupProcess(runtime, group, partial, started);
    if (failure) failures.push(failure);
    let part = null;
    if (existsSync(partial)) {
      try {
        part = JSON.parse(readFileSync(partial, 'utf8'));
      } catch {}
      rmSync(partial, { force: true });
    }
    if (!part) continue;
    if (!doc) doc = { ...part, groups: [], elapsedMs: 0, complete: true };
    doc.groups.push(...part.groups);
    doc.elapsedMs += part.elapsedMs;
    doc.complete &&= part.complete;
    if (part.settings) doc.settings = part.settings;
  }
  if (doc && failures.length) doc.complete = false;
  return { doc: doc ?? { runtime, runtimeVersion: {}, quick, startedAt: new Date(started).toISOString(), elapsedMs: 0, complete: false, groups: [] }, failures };
}

/**
 * Writes the tables and the chart for `docs`: for a full run on every runtime (`full`,
 * what the README reports) latest.md, latest.svg and the README's summary block; for any
 * other run partial.md and partial.svg (not tracked), so a look at a few groups does not
 * replace the figures the README cites.
 */
function writeReports(docs, machine, full) {
  const name = full ? 'latest' : 'partial';
  writeFileSync(join(RESULTS, `${name}.md`), markdown(docs, machine));
  writeFileSync(join(RESULTS, `${name}.svg`), svgChart(docs, machine));
  if (!full) return;
  const readme = join(ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const begin = '<!-- bench-summary:begin (written by bench/run.mjs) -->';
  const end = '<!-- bench-summary:end -->';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) writeFileSync(readme, `${text.slice(0, i + begin.length)}\n${readmeSummary(docs, machine)}\n${text.slice(j)}`);
}
