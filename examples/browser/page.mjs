// The browser example's page (its main thread).
//
// Owns: the IOThreads (Web Workers), the CoMutex they share with the page, the page's own
// increment loop, the aio timer that refreshes the counters on screen, the buttons, and
// the diagnosis shown when the page is not cross-origin isolated. The page's thread may
// not block, so its AioContext runs attached to the browser's event loop.
import { AioContext, Clock, CoMutex, Coroutine, IOThread, SCALE_MS, Semaphore, clockNs, crossOriginIsolationProblem } from 'aio-browser';
import { COUNTER, FIRST_THREAD, MAX_THREADS, PAGE, RUN, incrementWhileRunning, sharedWords } from './counter.mjs';

const TICK_MS = 100;
const INITIAL_THREADS = 2;
const ISOLATION_HEADERS = ['Cross-Origin-Opener-Policy', 'Cross-Origin-Embedder-Policy'];

const $ = (id) => document.getElementById(id);
const fmt = (n) => Math.round(n).toLocaleString('en-US');

function showError(err) {
  $('error').textContent += `${err?.stack ?? err}\n`;
}
addEventListener('error', (e) => showError(e.error ?? e.message));
addEventListener('unhandledrejection', (e) => showError(e.reason));

/**
 * A count's growth per second, re-measured when the wall-clock second changes, so the
 * figure is readable and every rate on screen covers the same window.
 */
class Rate {
  #second = -1;
  #at = 0;
  #base = 0;
  perSecond = 0;
  update(count) {
    const now = performance.now();
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      if (this.#second >= 0) this.perSecond = ((count - this.#base) * 1000) / (now - this.#at);
      this.#second = second;
      this.#at = now;
      this.#base = count;
    }
    return this.perSecond;
  }
}

/** Shows the library's diagnosis, plus what this page's own response carried. */
async function explainMissingIsolation(problem) {
  $('isolation').textContent = problem;
  $('isolation').className = 'problem';
  // Only the server knows which headers it sent; the page asks it for its own response.
  const res = await fetch(location.href, { method: 'HEAD', cache: 'no-store' });
  const served = ISOLATION_HEADERS.map((h) => `${h}: ${res.headers.get(h) ?? '(missing)'}`);
  $('headers').textContent = `This page was served with ${served.join('; ')}.`;
}

function runExample() {
  const ctx = AioContext.main();
  ctx.attach();
  const mutex = new CoMutex();
  // Shared before anyone waits for it: a contended CoMutex cannot move to shared memory.
  const mutexHandle = mutex.handle;
  const words = sharedWords();
  const threads = [];
  let state = 'loading';
  let added = 0;
  let pageDone = null;
  let ticks = 0;
  let refreshing = false;
  const rates = { increments: new Rate(), calls: new Rate() };

  function setState(next) {
    state = next;
    document.body.dataset.state = next;
    $('state').textContent = next;
    $('start').disabled = !(next === 'idle' || next === 'stopped');
    $('stop').disabled = next !== 'running';
    $('add-thread').disabled = next === 'loading' || added >= MAX_THREADS;
  }

  async function pingLoop(t) {
    while (Atomics.load(words, RUN) === 1n) {
      await t.io.call('ping');
      t.calls++;
    }
  }

  function startThread(t) {
    t.busy = true;
    const work = t.io.call('work', mutexHandle, words.buffer, t.slot, t.finished.handle).then(() => t.finished.waitAsync());
    t.done = Promise.all([work, pingLoop(t)])
      .catch(showError)
      .finally(() => {
        t.busy = false;
      });
  }

  async function addThread() {
    const index = added++;
    const name = `iothread-${index}`;
    const row = $('threads').insertRow();
    row.dataset.thread = name;
    for (const cls of ['name', 'status', 'increments', 'increments-rate', 'calls', 'calls-rate']) row.insertCell().className = cls;
    row.cells[0].textContent = name;
    row.cells[1].textContent = 'starting';
    setState(state);
    let io;
    try {
      io = await IOThread.create({ name, module: new URL('./thread.mjs', import.meta.url) });
    } catch (err) {
      row.cells[1].textContent = 'failed';
      throw err;
    }
    const t = {
      io,
      row,
      slot: FIRST_THREAD + index,
      finished: new Semaphore(0),
      calls: 0,
      busy: false,
      done: null,
      rates: { increments: new Rate(), calls: new Rate() },
    };
    threads.push(t);
    // A thread added while the others work joins in at once.
    if (Atomics.load(words, RUN) === 1n) startThread(t);
  }

  function start() {
    Atomics.store(words, RUN, 1n);
    const co = Coroutine.create(incrementWhileRunning, mutex, words, PAGE);
    ctx.coEnter(co);
    pageDone = co.promise.catch(showError);
    for (const t of threads) startThread(t);
    setState('running');
  }

  async function stop() {
    setState('stopping');
    Atomics.store(words, RUN, 0n);
    await Promise.all([pageDone, ...threads.map((t) => t.done)]);
    await refresh();
    setState('stopped');
  }

  /** Reads every counter under the mutex, so the snapshot is exact while threads run. */
  async function refresh() {
    await mutex.lock();
    let counter;
    let pageCount;
    let perThread;
    try {
      counter = Number(words[COUNTER]);
      pageCount = Number(words[PAGE]);
      perThread = threads.map((t) => Number(words[t.slot]));
    } finally {
      mutex.unlock();
    }
    const sum = perThread.reduce((a, b) => a + b, pageCount);
    const calls = threads.reduce((a, t) => a + t.calls, 0);
    threads.forEach((t, i) => {
      const cells = t.row.cells;
      cells[1].textContent = t.busy ? 'working' : 'idle';
      cells[2].textContent = fmt(perThread[i]);
      cells[3].textContent = fmt(t.rates.increments.update(perThread[i]));
      cells[4].textContent = fmt(t.calls);
      cells[5].textContent = fmt(t.rates.calls.update(t.calls));
    });
    $('counter').textContent = fmt(counter);
    $('page-increments').textContent = fmt(pageCount);
    $('sum').textContent = fmt(sum);
    $('increments-rate').textContent = fmt(rates.increments.update(counter));
    $('calls').textContent = fmt(calls);
    $('calls-rate').textContent = fmt(rates.calls.update(calls));
    $('ticks').textContent = fmt(ticks);
    $('check').textContent = counter === sum ? 'consistent: counter = page + threads' : `MISMATCH: counter ${counter} != sum ${sum}`;
    $('check').className = counter === sum ? 'ok' : 'problem';
  }

  const ticker = ctx.timer(Clock.Realtime, SCALE_MS, () => {
    ticks++;
    ticker.mod(clockNs(Clock.Realtime) / SCALE_MS + TICK_MS);
    if (refreshing) return;
    refreshing = true;
    refresh()
      .catch(showError)
      .finally(() => {
        refreshing = false;
      });
  });
  ticker.mod(clockNs(Clock.Realtime) / SCALE_MS + TICK_MS);

  const onClick = (id, action) => $(id).addEventListener('click', () => Promise.resolve(action()).catch(showError));
  onClick('start', start);
  onClick('stop', stop);
  onClick('add-thread', addThread);

  $('isolation').textContent = 'Cross-origin isolated: SharedArrayBuffer and Atomics.wait in workers are available.';
  $('isolation').className = 'ok';
  setState('loading');
  Promise.all(Array.from({ length: INITIAL_THREADS }, () => addThread()))
    .then(() => setState('idle'))
    .catch(showError);
}

const problem = crossOriginIsolationProblem();
if (problem) {
  document.body.dataset.state = 'unsupported';
  $('state').textContent = 'unsupported';
  explainMissingIsolation(problem).catch(showError);
} else {
  runExample();
}
