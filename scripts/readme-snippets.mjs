#!/usr/bin/env node
/**
 * Runs every code snippet of every README (npm test runs it): the root README, each
 * package's and each example's, and the API reference's guide (docs/guide.md). A fenced block in `ts` or `js` is a program; one whose
 * info string says `file=NAME` is a file of the next program in the same README (a
 * thread's module, say), written beside it. Each program runs on the runtime of the
 * adapter it imports (aio-bun: bun, aio-deno: deno with only --allow-read, aio-browser:
 * a cross-origin isolated page in headless Chromium, anything else: node), from a
 * directory inside the repository so the workspace packages resolve, and must exit by
 * itself with status 0 within a minute. TypeScript is stripped with esbuild first.
 * Blocks in other languages (`sh`, output) are not programs.
 *
 *   node scripts/readme-snippets.mjs [README.md ...]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { launchChromium } from './headless-chromium.mjs';
import { buildImportMap, startIsolatedServer } from './isolated-server.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'test', '.snippets');
const TIMEOUT_MS = 60_000;
const PROGRAM_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);

const readmes =
  process.argv.length > 2
    ? process.argv.slice(2)
    : [
        'README.md',
        'docs/guide.md',
        ...['packages', 'examples'].flatMap((dir) =>
          readdirSync(join(root, dir))
            .map((name) => join(dir, name, 'README.md'))
            .filter((file) => existsSync(join(root, file))),
        ),
      ];

/** The programs of a README: `{ line, code, ts, files: [{ name, code, ts }] }`. */
function programsOf(text) {
  const programs = [];
  let files = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(\S*)\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith(open[1]) && l.trim() === open[1]);
    if (end < 0) throw new Error(`an unclosed code block at line ${i + 1}`);
    const code = lines.slice(i + 1, end).join('\n');
    const lang = open[2].toLowerCase();
    const file = /(?:^|\s)file=(\S+)/.exec(open[3])?.[1];
    if (PROGRAM_LANGS.has(lang)) {
      const ts = lang === 'ts' || lang === 'typescript';
      if (file) files.push({ name: file, code, ts });
      else {
        programs.push({ line: i + 1, code, ts, files });
        files = [];
      }
    }
    i = end;
  }
  if (files.length > 0) throw new Error(`file=${files[0].name} is followed by no program`);
  return programs;
}

function runtimeOf(code) {
  if (/from\s+['"]aio-bun['"]/.test(code)) return 'bun';
  if (/from\s+['"]aio-deno['"]/.test(code)) return 'deno';
  if (/from\s+['"]aio-browser['"]/.test(code)) return 'browser';
  return 'node';
}

/** The JavaScript of a snippet file (TypeScript stripped; `./x.ts` imports become `./x.js`). */
function javascript({ code, ts }) {
  if (!ts) return code;
  return transformSync(code, { loader: 'ts', format: 'esm', target: 'es2022' }).code;
}

function runServer(runtime, dir) {
  const [cmd, args] = {
    node: [process.execPath, ['main.mjs']],
    bun: [join(root, 'node_modules', '.bin', 'bun'), ['main.mjs']],
    deno: [join(root, 'node_modules', '.bin', 'deno'), ['run', '--allow-read', '--node-modules-dir=manual', 'main.mjs']],
  }[runtime];
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', timeout: TIMEOUT_MS, env: { ...process.env, NO_COLOR: '1' } });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error?.code === 'ETIMEDOUT') return `did not exit within ${TIMEOUT_MS / 1000} s\n${output}`;
  return r.status === 0 ? null : `exited with ${r.status ?? r.signal}\n${output}`;
}

let chromium = null;
async function runBrowser(dir) {
  if (!existsSync('/usr/bin/chromium')) {
    if (process.env.AIO_REQUIRE_BROWSER === '1') return 'Chromium is not installed (/usr/bin/chromium) and AIO_REQUIRE_BROWSER=1';
    console.error('!!! CHROMIUM IS NOT INSTALLED: a browser snippet is not run');
    return null;
  }
  chromium ??= await launchChromium({ profilePrefix: 'aio-snippets-' });
  const path = `/${relative(root, dir).split('\\').join('/')}/main.mjs`;
  const server = await startIsolatedServer({
    root,
    importMap: buildImportMap({ root, bare: ['aio-browser', 'aio-core'] }),
    routes: { '/snippet.html': { type: 'text/html; charset=utf-8', body: Buffer.from('<!doctype html><title>snippet</title>') } },
  });
  const errors = [];
  const onError = (err) => errors.push(String(err?.stack ?? err));
  chromium.page.on('pageerror', onError);
  try {
    await chromium.page.goto(`${server.url}snippet.html`);
    const failure = await chromium.page.evaluate(
      ([url, ms]) =>
        Promise.race([
          import(url).then(
            () => null,
            (err) => String(err?.stack ?? err),
          ),
          new Promise((resolve) => setTimeout(() => resolve(`did not finish within ${ms / 1000} s`), ms)),
        ]),
      [path, TIMEOUT_MS],
    );
    return failure ?? (errors.length > 0 ? errors.join('\n') : null);
  } finally {
    chromium.page.off('pageerror', onError);
    await server.close();
  }
}

let failed = 0;
let ran = 0;
rmSync(work, { recursive: true, force: true });
try {
  for (const readme of readmes) {
    const programs = programsOf(readFileSync(join(root, readme), 'utf8'));
    for (const program of programs) {
      const where = `${readme}:${program.line}`;
      const dir = join(work, `${readme.replace(/[^a-z0-9]+/gi, '-')}-${program.line}`);
      mkdirSync(dir, { recursive: true });
      const runtime = runtimeOf(program.code);
      let problem;
      try {
        for (const file of program.files) writeFileSync(join(dir, file.name.replace(/\.ts$/, '.js')), javascript(file));
        writeFileSync(join(dir, 'main.mjs'), javascript(program));
        problem = runtime === 'browser' ? await runBrowser(dir) : runServer(runtime, dir);
      } catch (err) {
        problem = `is not a program: ${err.message}`;
      }
      ran++;
      if (problem !== null) {
        failed++;
        console.error(`${where} (${runtime}): ${problem.trimEnd()}`);
      }
    }
  }
} finally {
  await chromium?.close();
  rmSync(work, { recursive: true, force: true });
}
console.log(`README snippets: ${ran - failed} of ${ran} ran and exited cleanly (${readmes.length} READMEs)`);
process.exit(failed > 0 ? 1 : 0);
