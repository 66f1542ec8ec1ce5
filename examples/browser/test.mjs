#!/usr/bin/env node
// The browser example's test: `node examples/browser/test.mjs` (from any directory).
//
// Owns: driving the page in headless Chromium (playwright-core, /usr/bin/chromium) through
// start, add thread, stop, and checking what it shows: the shared counter equals the
// increments of the page and of every thread, the timer ticked, no error; then the page
// served without COOP/COEP must name the missing headers. Without Chromium it warns and
// passes, unless AIO_REQUIRE_BROWSER=1.
import { existsSync, rmSync } from 'node:fs';
import { CHROMIUM, launchChromium } from '../../scripts/headless-chromium.mjs';
import { serveExample } from './serve.mjs';

// Generous: on a loaded 2-core machine thread start-up and lock hand-offs slow down a lot.
const WAIT_MS = 20_000;
const INITIAL_THREADS = 2;

if (!existsSync(CHROMIUM)) {
  const required = process.env.AIO_REQUIRE_BROWSER === '1';
  console.error(
    `\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n` +
      `!!! examples/browser: ${CHROMIUM} not found, the browser example was NOT tested.\n` +
      `!!! Install it (apt-get install -y chromium)${required ? '; AIO_REQUIRE_BROWSER=1, so this fails.' : '.'}\n` +
      `!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`,
  );
  process.exit(required ? 1 : 0);
}

class CheckFailed extends Error {}
function check(ok, what) {
  if (!ok) throw new CheckFailed(what);
  console.log(`ok  ${what}`);
}
const number = (text) => Number(text.replaceAll(',', ''));

/** Fails on anything the page reports as wrong while the test drives it. */
function watchPage(page, problems) {
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
}

/** Waits for the page's data-state, with the page's error text in the failure message. */
async function waitForState(page, state) {
  try {
    await page.waitForFunction((s) => document.body.dataset.state === s, state, { timeout: WAIT_MS });
  } catch {
    const now = await page.evaluate(() => `${document.body.dataset.state}; error: ${document.getElementById('error')?.textContent || 'none'}`);
    throw new CheckFailed(`page did not reach state '${state}' within ${WAIT_MS / 1000} s (state ${now})`);
  }
}

/** What the page shows, as numbers. */
function readCounters(page) {
  return page.evaluate(() => {
    const text = (id) => document.getElementById(id).textContent;
    return {
      counter: text('counter'),
      pageIncrements: text('page-increments'),
      sum: text('sum'),
      ticks: text('ticks'),
      calls: text('calls'),
      check: text('check'),
      error: text('error'),
      threads: [...document.querySelectorAll('#threads tr[data-thread]')].map((row) => ({
        name: row.dataset.thread,
        status: row.querySelector('.status').textContent,
        increments: row.querySelector('.increments').textContent,
      })),
    };
  });
}

async function checkIsolatedPage(page, url) {
  await page.goto(url);
  await waitForState(page, 'idle');
  check(await page.evaluate(() => globalThis.crossOriginIsolated), 'the page is cross-origin isolated');
  await page.click('#start');
  await waitForState(page, 'running');
  await page.click('#add-thread');
  try {
    // Every thread and the page must have taken the lock, and the screen refreshed since.
    await page.waitForFunction(
      (n) => {
        const rows = [...document.querySelectorAll('#threads tr[data-thread] .increments')];
        const positive = (el) => Number(el.textContent.replaceAll(',', '')) > 0;
        return rows.length === n && rows.every(positive) && positive(document.getElementById('page-increments'));
      },
      INITIAL_THREADS + 1,
      { timeout: WAIT_MS },
    );
  } catch {
    throw new CheckFailed(`counters did not all move within ${WAIT_MS / 1000} s: ${JSON.stringify(await readCounters(page))}`);
  }
  await page.click('#stop');
  await waitForState(page, 'stopped');
  const shown = await readCounters(page);
  const threadSum = shown.threads.reduce((a, t) => a + number(t.increments), 0);
  check(shown.threads.length === INITIAL_THREADS + 1, `${shown.threads.length} threads listed`);
  check(shown.threads.every((t) => number(t.increments) > 0 && t.status === 'idle'), 'every thread incremented and is idle after stop');
  check(number(shown.counter) > 0, `shared counter moved (${shown.counter})`);
  check(
    number(shown.counter) === number(shown.pageIncrements) + threadSum,
    `shared counter ${shown.counter} == page ${shown.pageIncrements} + threads ${threadSum.toLocaleString('en-US')}`,
  );
  check(number(shown.sum) === number(shown.counter), `the page's own sum ${shown.sum} matches`);
  check(shown.check.startsWith('consistent'), `the page's check says "${shown.check}"`);
  check(number(shown.ticks) > 0, `timer ticked (${shown.ticks})`);
  check(number(shown.calls) > 0, `calls made (${shown.calls})`);
  check(shown.error === '', 'no error shown');
}

async function checkPageWithoutIsolation(page, url) {
  await page.goto(url);
  await waitForState(page, 'unsupported');
  try {
    await page.waitForFunction(() => document.getElementById('headers').textContent !== '', null, { timeout: WAIT_MS });
  } catch {
    throw new CheckFailed('the page without isolation did not list the headers it was served with');
  }
  const { isolation, headers, error } = await page.evaluate(() => ({
    isolation: document.getElementById('isolation').textContent,
    headers: document.getElementById('headers').textContent,
    error: document.getElementById('error').textContent,
  }));
  check(/not cross-origin isolated/.test(isolation), 'without isolation the page says it is not cross-origin isolated');
  for (const h of ['Cross-Origin-Opener-Policy', 'Cross-Origin-Embedder-Policy']) {
    check(isolation.includes(h), `the diagnosis names ${h}`);
    check(headers.includes(`${h}: (missing)`), `the page shows ${h} missing from its response`);
  }
  check(error === '', 'no error shown');
}

const started = performance.now();
const problems = [];
const servers = [];
let browser;
// The last resort if Chromium or a server hangs: each step has its own shorter timeout.
setTimeout(() => {
  console.error('FAIL examples/browser: the test did not finish within 120 s');
  if (browser) rmSync(browser.profile, { recursive: true, force: true });
  process.exit(1);
}, 120_000).unref();
let failure = null;
try {
  servers.push(await serveExample(), await serveExample({ isolation: false }));
  browser = await launchChromium({ profilePrefix: 'aio-example-browser-' });
  const { page } = browser;
  watchPage(page, problems);
  await checkIsolatedPage(page, servers[0].url);
  await checkPageWithoutIsolation(page, servers[1].url);
  check(problems.length === 0, 'no page errors or console errors');
} catch (err) {
  failure = err;
} finally {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (failure) {
  console.error(`FAIL examples/browser: ${failure instanceof CheckFailed ? failure.message : (failure?.stack ?? failure)}`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`examples/browser: all checks passed in ${seconds} s`);
