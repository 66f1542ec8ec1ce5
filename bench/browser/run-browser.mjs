// The Chromium pass: serves the repository on 127.0.0.1 with cross-origin isolation
// headers, opens bench/browser/index.html in headless Chromium (playwright-core,
// /usr/bin/chromium) and collects the results the page reports.
//   node bench/browser/run-browser.mjs [--quick] [--only ids] [--entry re] [--out file]
//
// Module resolution in the browser: the page gets an import map; workers have none, so
// the server (scripts/isolated-server.mjs) also rewrites the same bare specifiers in the
// JavaScript it serves.
import { statSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM as DEFAULT_CHROMIUM, launchChromium } from '../../scripts/headless-chromium.mjs';
import { buildImportMap, startIsolatedServer } from '../../scripts/isolated-server.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.AIO_BENCH_CHROMIUM ?? DEFAULT_CHROMIUM;

/** Packages the browser pass imports by bare name, and the packages they import. */
const BARE = [
  'aio-core',
  'aio-browser',
  'comlink',
  'async-mutex',
  '@esfx/async-mutex',
  '@esfx/async-lockable',
  '@esfx/async-waitqueue',
  '@esfx/cancelable',
  '@esfx/disposable',
  'multithreading',
];

/** Serves the repository plus the generated bench page; resolves with { port, url, close }. */
function serve(importMap) {
  const page = {
    type: 'text/html; charset=utf-8',
    body:
      '<!doctype html><html><head><meta charset="utf-8"><title>aio bench</title>' +
      '<script type="module" src="/bench/browser/page.mjs"></script></head><body><pre id="log"></pre></body></html>',
  };
  // bench/lib/platform.mjs reads the map from here to import packages by name in workers.
  const mapModule = { type: 'text/javascript; charset=utf-8', body: `export default ${JSON.stringify(importMap)};\n` };
  return startIsolatedServer({
    root: ROOT,
    importMap,
    routes: { '/': page, '/bench/browser/index.html': page, '/bench/browser/import-map.mjs': mapModule },
  });
}

/** Runs the browser pass; resolves with the result document. */
export async function runBrowser({ quick, only, entry, verbose, log, timeoutMs = 600_000, onPartial }) {
  statSync(CHROMIUM);
  const lookIn = [join(ROOT, 'node_modules'), join(ROOT, 'bench', 'node_modules')];
  const server = await serve(buildImportMap({ root: ROOT, bare: BARE, lookIn }));
  let browser;
  try {
    browser = await launchChromium({ executablePath: CHROMIUM, profilePrefix: 'aio-bench-chromium-' });
    const { context, page } = browser;
    let done;
    let failed;
    const finished = new Promise((resolve, reject) => {
      done = resolve;
      failed = reject;
    });
    await page.exposeFunction('__benchLog', (line) => log(line));
    await page.exposeFunction('__benchPartial', (json) => onPartial?.(JSON.parse(json)));
    await page.exposeFunction('__benchDone', (json) => done(JSON.parse(json)));
    await page.exposeFunction('__benchFail', (msg) => failed(new Error(msg)));
    page.on('pageerror', (err) => log(`page error: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') log(`console.${m.type()}: ${m.text()}`);
    });
    const q = new URLSearchParams();
    if (quick) q.set('quick', '1');
    if (only) q.set('only', only.join(','));
    if (entry) q.set('entry', entry);
    if (verbose) q.set('verbose', '1');
    await page.goto(`http://127.0.0.1:${server.port}/bench/browser/index.html?${q}`);
    let timer;
    const doc = await Promise.race([
      finished,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`browser pass did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    doc.runtimeVersion = { ...doc.runtimeVersion, chromium: context.browser()?.version() ?? null, executable: CHROMIUM };
    return doc;
  } finally {
    await browser?.close();
    await server.close();
  }
}

// As a program: the child process bench/run.mjs starts for the chromium pass.
if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const out = opt('--out');
  const log = (line) => process.stderr.write(`${line}\n`);
  try {
    const doc = await runBrowser({
      quick: args.includes('--quick'),
      only: opt('--only')?.split(','),
      entry: opt('--entry'),
      verbose: args.includes('--verbose'),
      log,
      onPartial: (d) => out && writeFileSync(out, JSON.stringify(d, null, 1)),
    });
    if (out) writeFileSync(out, JSON.stringify(doc, null, 1));
    else console.log(JSON.stringify(doc));
    process.exit(0);
  } catch (err) {
    log(`browser pass failed: ${err?.stack ?? err}`);
    process.exit(1);
  }
}
