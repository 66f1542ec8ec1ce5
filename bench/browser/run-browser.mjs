// The Chromium pass: serves the repository on 127.0.0.1 with cross-origin isolation
// headers, opens bench/browser/index.html in headless Chromium (playwright-core,
// /usr/bin/chromium) and collects the results the page reports.
//   node bench/browser/run-browser.mjs [--quick] [--only ids] [--entry re] [--out file]
//
// Module resolution in the browser: the page gets an import map; workers have none, so
// the server also rewrites the same bare specifiers in the JavaScript it serves.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.AIO_BENCH_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

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
const CONDITIONS = ['browser', 'import', 'module', 'default'];

function pickTarget(t) {
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object') {
    for (const c of CONDITIONS) if (c in t) return pickTarget(t[c]);
  }
  return null;
}

/** Finds a package's directory the way Node would from the repository root. */
function packageDir(name) {
  for (const base of [join(ROOT, 'node_modules'), join(ROOT, 'bench', 'node_modules')]) {
    try {
      const dir = join(base, name);
      statSync(join(dir, 'package.json'));
      return dir;
    } catch {}
  }
  throw new Error(`package ${name} is not installed (run npm install)`);
}

/** The import map: bare name (and exported subpaths) -> URL path under ROOT. */
export function buildImportMap() {
  const map = {};
  for (const name of BARE) {
    const dir = packageDir(name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const urlOf = (rel) => `/${normalize(join(dir, rel)).slice(ROOT.length).split(sep).join('/')}`;
    const exp = pkg.exports;
    if (exp && typeof exp === 'object' && Object.keys(exp).some((k) => k.startsWith('.'))) {
      for (const [key, value] of Object.entries(exp)) {
        if (key.includes('*') || key === './package.json') continue;
        const target = pickTarget(value);
        if (target) map[key === '.' ? name : `${name}/${key.slice(2)}`] = urlOf(target);
      }
    } else {
      const target = pickTarget(exp) ?? pkg.module ?? pkg.main ?? 'index.js';
      map[name] = urlOf(target);
    }
  }
  return map;
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
};

function rewriteBare(source, map) {
  return source.replace(/(\bimport\s*\(\s*|\bfrom\s*|\bimport\s+)(['"])([^'"\s]+)\2/g, (all, head, q, spec) =>
    Object.hasOwn(map, spec) ? `${head}${q}${map[spec]}${q}` : all,
  );
}

/** Starts the static server; resolves with { port, close }. */
export function serve(map) {
  const html =
    '<!doctype html><html><head><meta charset="utf-8"><title>aio bench</title>' +
    `<script type="importmap">${JSON.stringify({ imports: map })}</script>` +
    '<script type="module" src="/bench/browser/page.mjs"></script></head><body><pre id="log"></pre></body></html>';
  const server = createServer((req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let body;
    let type;
    if (path === '/bench/browser/index.html' || path === '/') {
      body = html;
      type = TYPES['.html'];
    } else if (path === '/bench/browser/import-map.mjs') {
      body = `export default ${JSON.stringify(map)};\n`;
      type = TYPES['.js'];
    } else if (path === '/favicon.ico') {
      res.writeHead(204, headers).end();
      return;
    } else {
      const file = normalize(join(ROOT, path));
      if (!file.startsWith(ROOT)) {
        res.writeHead(403, headers).end();
        return;
      }
      try {
        body = readFileSync(file);
      } catch {
        res.writeHead(404, headers).end(`not found: ${path}`);
        return;
      }
      type = TYPES[extname(file)] ?? 'application/octet-stream';
      if (type.startsWith('text/javascript')) body = rewriteBare(body.toString('utf8'), map);
    }
    res.writeHead(200, { ...headers, 'Content-Type': type }).end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, close: () => new Promise((r) => server.close(r)) }));
  });
}

/** Runs the browser pass; resolves with the result document. */
export async function runBrowser({ quick, only, entry, verbose, log, timeoutMs = 600_000, onPartial }) {
  const { chromium } = await import('playwright-core');
  statSync(CHROMIUM);
  const map = buildImportMap();
  const server = await serve(map);
  const profile = mkdtempSync(join(tmpdir(), 'aio-bench-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
    const page = context.pages()[0] ?? (await context.newPage());
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
    await context?.close().catch(() => {});
    await server.close();
    rmSync(profile, { recursive: true, force: true });
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
