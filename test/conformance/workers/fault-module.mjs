// The module the fault-injection tests load into their IOThreads: ways a thread ends by
// itself, functions that throw what users throw, and promise chains that need the loop
// to run microtasks and host tasks.
import { AioContext, Coroutine, IOThread, awaitPromise, registerFunction } from 'aio-core';

let flag = 'unset';
let ran = 0;
let neverStarts = 0;

export function setup(ctx) {
  registerFunction('add', (a, b) => a + b);
  registerFunction('never', () => new Promise(() => {}));
  // As 'never', and counts its starts ('neverStarts' tells them).
  registerFunction('neverCounted', () => {
    neverStarts++;
    return new Promise(() => {});
  });
  registerFunction('neverStarts', () => neverStarts);
  registerFunction('exitWith', (how) => {
    const g = globalThis;
    // Each way ends the thread from inside a bottom half, after this call replied.
    ctx.scheduleOneshot(() => {
      if (how === 'process.exit') g.process.exit(3);
      else if (how === 'Deno.exit') g.Deno.exit(4);
      else if (how === 'close') g.close();
      else if (how === 'throw') queueMicrotask(() => { throw new Error('thrown from a microtask'); });
    });
    return 'exiting';
  });
  registerFunction('throwValue', (kind) => {
    if (kind === 'null-prototype') throw Object.assign(Object.create(null), { message: 'no prototype' });
    if (kind === 'getter') throw Object.defineProperty(new Error('x'), 'message', { get() { throw new Error('getter threw'); } });
    if (kind === 'code-getter') throw Object.defineProperty(new Error('y'), 'code', { get() { throw new Error('code getter threw'); } });
    if (kind === 'symbol') throw Symbol('thrown symbol');
    if (kind === 'undefined') throw undefined;
    if (kind === 'then-throws') return { then() { throw new Error('then threw'); } };
    if (kind === 'then-getter-throws') return Object.defineProperty({}, 'then', { get() { throw new Error('then getter threw'); } });
    if (kind === 'proxy') throw new Proxy({}, { get() { throw new Error('proxy trap'); }, getPrototypeOf() { throw new Error('proxy trap'); } });
    throw new Error(`unknown kind ${kind}`);
  });
  // Promise reactions with no async call pending while they run.
  registerFunction('flag', () => flag);
  registerFunction('thenFromBh', () => {
    flag = 'waiting';
    ctx.scheduleOneshot(() => {
      Promise.resolve().then(() => Promise.resolve()).then(() => (flag = 'reaction ran'));
    });
  });
  registerFunction('hostTimerFromBh', (ms) => {
    flag = 'waiting';
    ctx.scheduleOneshot(() => {
      Promise.resolve().then(() => new Promise((r) => setTimeout(r, ms))).then(() => (flag = 'host timer ran'));
    });
  });
  registerFunction('awaitInCoroutine', () => {
    flag = 'waiting';
    const co = Coroutine.create(function* () {
      const v = yield* awaitPromise(Promise.resolve('resolved').then((x) => x));
      flag = `coroutine resumed: ${v}`;
    });
    ctx.coEnter(co);
  });
  registerFunction('submitThen', (n) => {
    flag = 'waiting';
    AioContext.current().threadPool.submit('square', n).then((v) => (flag = `pool said ${v}`));
  });
  registerFunction('square', (n) => n * n);
  // A thread that starts a pool worker, or an IOThread, and then blocks in poll(true)
  // until it hears back, never turning its host loop (QEMU's blocking style).
  registerFunction('poolWhileBlocking', (n) => {
    const c = new AioContext({ name: 'blocking' });
    try {
      let outcome;
      c.threadPool.setParams({ modules: [import.meta.url] });
      c.threadPool.submitAio('square', [n], (err, v) => (outcome = err ? `failed: ${err.message}` : `pool said ${v}`));
      while (outcome === undefined) c.poll(true);
      return outcome;
    } finally {
      c.threadPool.shutdown();
      c.close();
    }
  });
  // Starts an IOThread, makes it end itself (`how`, as exitWith), and waits in poll(true)
  // for a call that only the thread's end can settle: its outcome in words.
  registerFunction('deathWhileBlocking', (how) => {
    const c = new AioContext({ name: 'blocking' });
    let outcome;
    let thread;
    c.scheduleOneshot(() => IOThread.start({ module: import.meta.url }, (err, t) => {
      if (err) return (outcome = `failed to start: ${err.message}`);
      thread = t;
      t._callWith('exitWith', [how], () => t._callWith('never', [], (e) => (outcome = e ? `${e.code}: ${e.message}` : 'resolved')));
    }));
    while (outcome === undefined) c.poll(true);
    return thread ? thread.stop().then(() => { c.close(); return outcome; }) : outcome;
  });
  registerFunction('iothreadWhileBlocking', (n) => {
    const c = new AioContext({ name: 'blocking' });
    let outcome;
    let thread;
    // Started from a bottom half of c, so its ready reply lands in c.
    c.scheduleOneshot(() => IOThread.start({ module: import.meta.url }, (err, t) => {
      if (err) outcome = `failed: ${err.message}`;
      else {
        thread = t;
        t._callWith('square', [n], (e, v) => (outcome = e ? `failed: ${e.message}` : `thread said ${v}`));
      }
    }));
    while (outcome === undefined) c.poll(true);
    return thread ? thread.stop().then(() => { c.close(); return outcome; }) : outcome;
  });
  // A coroutine that awaits a promise nobody will ever settle.
  registerFunction('awaitForever', () => {
    ctx.coEnter(Coroutine.create(function* () {
      yield* awaitPromise(new Promise(() => {}));
    }));
    return 'waiting';
  });
  // Exactly-once: each run counts itself in shared memory and here.
  registerFunction('count', (sab) => {
    Atomics.add(new Int32Array(sab), 0, 1);
    return ++ran;
  });
  // A call from this thread into another thread's context, settled here: its outcome in words.
  registerFunction('callInto', (handle, name, ...args) =>
    AioContext.from(handle).call(name, ...args).then(
      (v) => `resolved ${v}`,
      (e) => `${e.code}: ${e.message}`,
    ),
  );
}
