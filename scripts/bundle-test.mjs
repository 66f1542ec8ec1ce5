#!/usr/bin/env node
/**
 * Bundler test: a page that uses aio-browser, built by Vite (`vite build`, no config) and
 * by esbuild (the flags aio-browser's README gives), from the five packages as `npm pack`
 * makes them, installed into a fresh project outside the repository; each build is served
 * on 127.0.0.1 with COOP/COEP and run in headless Chromium.
 *
 * Owns: the temporary project and the two builds, and the checks on what the page
 * (test/bundlers/app/page.js) reports: its IOThread, started through the `worker` option,
 * answered an awaited call and stopped; a missing worker script, a worker without the
 * name aio gave its factory, and a start from a module URL each failed naming the cause.
 *
 * Without /usr/bin/chromium the builds still run and the browser runs are skipped, loudly,
 * unless AIO_REQUIRE_BROWSER=1, which makes that a failure.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, launchChromium } from './headless-chromium.mjs';
import { startIsolatedServer } from './isolated-server.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['aio-core', 'aio-node', 'aio-bun', 'aio-deno', 'aio-browser'];
// Generous: on a loaded 2-core machine a worker start can take seconds.
const PAGE_MS = 30_000;

class CheckFailed extends Error {}
function check(ok, what, detail) {
  if (!ok) throw new CheckFailed(`${what}${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`);
}
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

/** The temporary project: the packed tarballs installed, the page's sources copied in. */
function makeProject(work) {
  const tarballs = join(work, 'tarballs');
  const app = join(work, 'app');
  mkdirSync(tarballs);
  cpSync(join(root, 'test', 'bundlers', 'app'), app, { recursive: true });
  for (const p of packages) run('npm', ['pack', '--silent', '--pack-destination', tarballs], join(root, 'packages', p));
  const files = Object.fromEntries(readdirSync(tarballs).map((f) => [f.replace(/-\d+\.\d+\.\d+\.tgz$/, ''), `file:${join(tarballs, f)}`]));
  for (const p of packages) if (!files[p]) throw new Error(`npm pack produced no tarball for ${p}`);
  const manifest = { name: 'aio-bundle-test', private: true, type: 'module', dependencies: files, overrides: { 'aio-core': files['aio-core'] } };
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--silent'], app);
  return app;
}

/** The two builds: each yields the directory to serve. The bundlers are the repository's pinned ones. */
const builds = [
  {
    name: 'vite',
    build(app) {
      run(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], app);
      const out = join(app, 'dist');
      // The worker is a script of its own, not inlined into the page's chunk.
      check(
        readdirSync(join(out, 'assets')).some((f) => f.startsWith('adder-thread')),
        'vite emitted the worker script',
        readdirSync(join(out, 'assets')),
      );
      return out;
    },
  },
  {
    name: 'esbuild',
    build(app) {
      const out = join(app, 'out-esbuild');
      run(join(root, 'node_modules', '.bin', 'esbuild'), ['page.js', 'adder-thread.js', '--bundle', '--format=esm', `--outdir=${out}`, '--log-level=warning'], app);
      cpSync(join(app, 'index.html'), join(out, 'index.html'));
      return out;
    },
  },
];

/** Runs the built page in Chromium and checks what it reports. */
async function checkPage(browser, dir, name) {
  const server = await startIsolatedServer({ root: dir });
  const pageErrors = [];
  const onError = (err) => pageErrors.push(err.message);
  browser.page.on('pageerror', onError);
  try {
    await browser.page.goto(server.url);
    try {
      await browser.page.waitForFunction(() => document.body.dataset.state === 'done', null, { timeout: PAGE_MS });
    } catch {
      throw new CheckFailed(`the ${name} page did not finish within ${PAGE_MS / 1000} s (page errors: ${pageErrors.join('; ') || 'none'})`);
    }
    const r = JSON.parse(await browser.page.evaluate(() => document.getElementById('result').textContent));
    check(r.error === undefined, `the ${name} page ran without an error`, r.error);
    check(r.problem === undefined && r.isolated === true, `the ${name} page is cross-origin isolated`, r.problem);
    check(r.sum === 5, `the ${name} page's IOThread answered add(2, 3) with 5`, r.sum);
    check(r.afterStop === 'ERR_AIO_THREAD_STOPPED', `the ${name} page's IOThread stopped (a call after stop() fails)`, r.afterStop);
    const missingUrl = `${server.url}no-such-thread.js`;
    check(r.missing.code === 'ERR_AIO_THREAD_DIED' && r.missing.message.includes(missingUrl), `a missing worker script fails the start naming ${missingUrl}`, r.missing);
    check(r.unnamed.code === 'ERR_AIO_THREAD_DIED' && r.unnamed.message.includes('did not get the name'), 'a worker without the name aio gave its factory fails the start saying so', r.unnamed);
    check(
      r.byUrl.code === 'ERR_AIO_THREAD_DIED' && r.byUrl.message.includes('iothread-worker.js') && r.byUrl.message.includes('`worker` option'),
      'a start from a module URL fails naming the entry and pointing to the `worker` option',
      r.byUrl,
    );
    check(pageErrors.length === 0, `no uncaught errors on the ${name} page`, pageErrors);
  } finally {
    browser.page.off('pageerror', onError);
    await server.close();
  }
}

const started = performance.now();
const haveBrowser = existsSync(CHROMIUM);
const required = process.env.AIO_REQUIRE_BROWSER === '1';
// The last resort if a bundler, Chromium or a server hangs.
setTimeout(() => {
  console.error('FAIL bundlers: the test did not finish within 180 s');
  process.exit(1);
}, 180_000).unref();
const work = mkdtempSync(join(tmpdir(), 'aio-bundle-'));
let browser;
let failure = null;
try {
  const app = makeProject(work);
  const outputs = builds.map((b) => ({ name: b.name, dir: b.build(app) }));
  if (haveBrowser) {
    browser = await launchChromium({ profilePrefix: 'aio-bundle-test-' });
    for (const o of outputs) await checkPage(browser, o.dir, o.name);
  }
} catch (err) {
  failure = err;
} finally {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (failure) {
  const detail = failure instanceof CheckFailed ? failure.message : `${failure?.stack ?? failure}${failure?.stderr ? `\n${failure.stderr}` : ''}`;
  console.error(`FAIL bundlers: ${detail}`);
  process.exit(1);
}
if (!haveBrowser) {
  const msg = `bundlers: ${CHROMIUM} NOT FOUND: the Vite and esbuild builds were made but NOT run in a browser${required ? ' (AIO_REQUIRE_BROWSER=1: a failure)' : ''}`;
  console.error(`\n${'!'.repeat(msg.length)}\n${msg}\n${'!'.repeat(msg.length)}\n`);
  process.exit(required ? 1 : 0);
}
console.log(`bundlers: the Vite and esbuild builds of a page ran an IOThread in Chromium, all checks passed in ${seconds} s`);
