// What differs between the four runtimes the suite runs on, in one place: which runtime
// this is, how to import a package by name, how to start a worker and talk to it, and how
// a worker talks to its parent. Everything else in bench/ is runtime-neutral.
//
// Threads: Node uses node:worker_threads (it has no global Worker); Bun, Deno and browsers
// use the web Worker, which is also what their aio adapters use for IOThreads.

export const runtime = globalThis.Deno ? 'deno' : globalThis.Bun ? 'bun' : globalThis.process?.versions?.node ? 'node' : 'browser';
export const isBrowser = runtime === 'browser';

/** The aio adapter of this runtime. */
export const adapterName = { node: 'aio-node', bun: 'aio-bun', deno: 'aio-deno', browser: 'aio-browser' }[runtime];

/** True when this thread may block in Atomics.wait (not a browser window). */
export const canBlock = (() => {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
})();

export const now = () => performance.now();

/** Atomics.pause where the runtime has it (not Node 20). */
export const pause = typeof Atomics.pause === 'function' ? () => Atomics.pause() : () => {};

let importMap = null;
/**
 * Imports a package by its bare name. In browsers, bare names go through the import map
 * the bench server generates (workers have no import map of their own).
 */
export async function importByName(name) {
  if (name === 'multithreading' && runtime === 'node' && !globalThis.navigator) {
    // multithreading reads navigator.hardwareConcurrency on import; Node 20 has no navigator.
    const os = await import('node:os');
    globalThis.navigator = { hardwareConcurrency: os.availableParallelism?.() ?? os.cpus().length };
  }
  if (!isBrowser) return import(name);
  importMap ??= (await import(new URL('../browser/import-map.mjs', import.meta.url).href)).default;
  const target = importMap[name];
  if (!target) throw new Error(`no import-map entry for '${name}'`);
  return import(new URL(target, location.origin).href);
}

/** The runtime's version string(s). */
export function runtimeVersion() {
  if (runtime === 'deno') return { deno: Deno.version.deno, v8: Deno.version.v8, typescript: Deno.version.typescript };
  if (runtime === 'bun') return { bun: Bun.version, revision: Bun.revision };
  if (runtime === 'node') return { node: process.versions.node, v8: process.versions.v8 };
  return { userAgent: navigator.userAgent };
}

/**
 * Starts a worker running the module at `url` and returns a small channel object:
 * post(message), next() -> Promise of the next message, terminate(). Messages that arrive
 * before anyone waits are queued (Deno may deliver the first one before a microtask runs).
 */
export async function spawnWorker(url) {
  const queue = [];
  const waiters = [];
  let failure = null;
  let handler = null;
  const deliver = (m) => {
    if (handler) return handler(m);
    const w = waiters.shift();
    if (w) w.resolve(m);
    else queue.push(m);
  };
  const fail = (e) => {
    failure = e instanceof Error ? e : new Error(String(e?.message ?? e));
    for (const w of waiters.splice(0)) w.reject(failure);
  };
  let post;
  let terminate;
  if (runtime === 'node') {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(url);
    w.on('message', deliver);
    w.on('error', fail);
    post = (m) => w.postMessage(m);
    terminate = async () => void (await w.terminate());
  } else {
    const w = new Worker(url, { type: 'module' });
    w.addEventListener('message', (e) => deliver(e.data));
    w.addEventListener('error', (e) => {
      e.preventDefault?.();
      fail(e.error ?? e.message ?? 'worker error');
    });
    post = (m) => w.postMessage(m);
    terminate = async () => w.terminate();
  }
  return {
    post,
    terminate,
    /** Hands every later message to `fn` (null: back to next()). */
    onMessage(fn) {
      handler = fn;
    },
    next() {
      if (queue.length) return Promise.resolve(queue.shift());
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    /** Posts `message` and waits for the reply. */
    async ask(message) {
      post(message);
      const reply = await this.next();
      if (reply?.error) throw new Error(reply.error);
      return reply;
    },
  };
}

/**
 * Inside a worker started by spawnWorker: the channel to the parent, with the same
 * next()/post() shape. Call it synchronously at the top of the worker module.
 */
export async function parentChannel() {
  const queue = [];
  const waiters = [];
  let handler = null;
  const deliver = (m) => {
    if (handler) return handler(m);
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  };
  let post;
  let raw;
  if (runtime === 'node') {
    const { parentPort } = await import('node:worker_threads');
    parentPort.on('message', deliver);
    post = (m) => parentPort.postMessage(m);
    raw = parentPort;
  } else {
    globalThis.addEventListener('message', (e) => deliver(e.data));
    post = (m) => globalThis.postMessage(m);
    raw = globalThis;
  }
  return {
    post,
    raw,
    /** Hands every later message to `fn` instead of next(). */
    onMessage(fn) {
      handler = fn;
    },
    next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r))),
  };
}


/**
 * Yields to the event loop and runs `fn` on its next turn: setImmediate where the runtime
 * has it (Node, Bun, Deno), a MessageChannel message in browsers. Unlike a timer it is not
 * clamped to a millisecond, so a loop of them paces work at microsecond granularity.
 */
export const nextTurn =
  typeof globalThis.setImmediate === 'function'
    ? (fn) => globalThis.setImmediate(fn)
    : (() => {
        const ch = new MessageChannel();
        const queue = [];
        ch.port1.onmessage = () => queue.shift()();
        return (fn) => {
          queue.push(fn);
          ch.port2.postMessage(0);
        };
      })();

let collect;
/**
 * A full garbage collection of this thread's heap where the runtime lets a program ask
 * for one: Bun.gc(true); on V8 runtimes (Node, Deno) the `gc` function that
 * --expose-gc provides, obtained at run time through node:v8 and node:vm. Returns false
 * where there is none (browsers).
 */
export async function collectGarbage() {
  if (collect === undefined) {
    collect = null;
    if (typeof globalThis.gc === 'function') collect = () => globalThis.gc();
    else if (runtime === 'bun') collect = () => Bun.gc(true);
    else if (runtime === 'node' || runtime === 'deno') {
      const v8 = await import('node:v8');
      const vm = await import('node:vm');
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc');
    }
  }
  if (!collect) return false;
  collect();
  return true;
}

/**
 * The process's memory now, in bytes: { rss, heap } (heap: this thread's JS heap in use
 * plus memory outside it that it holds, such as array buffers), or null where the runtime
 * does not say (browsers: performance.memory covers the page's heap only, quantized).
 */
export function memoryNow() {
  const m = runtime === 'deno' ? Deno.memoryUsage() : runtime === 'node' || runtime === 'bun' ? process.memoryUsage() : null;
  return m && { rss: m.rss, heap: m.heapUsed + (m.external ?? 0) };
}
