// The module the IOThread conformance tests load into their IOThreads.
import { AioContext, Mutex, RecMutex, registerFunction, setAioDebug } from 'aio-core';

let ctxAtSetup = null;
let hits = 0;

export function setup(ctx) {
  ctxAtSetup = ctx;
  registerFunction('add', (a, b) => a + b);
  registerFunction('div', (a, b) => a / b);
  registerFunction('describe', (...args) => args.map((v) => (Object.is(v, -0) ? '-0' : typeof v === 'string' ? `s:${v}` : `${typeof v}:${v}`)));
  registerFunction('echo', (v) => v);
  registerFunction('nothing', () => undefined);
  registerFunction('where', () => ({ current: AioContext.current().name, isSetupCtx: AioContext.current() === ctxAtSetup }));
  registerFunction('fail', (msg) => {
    const err = new Error(msg);
    err.code = 'E_TEST';
    throw err;
  });
  registerFunction('later', async (v, ms) => {
    await null;
    return { v, ms };
  });
  registerFunction('bytes', (n) => new Uint8Array(n));
  let releaseHeld = null;
  registerFunction('hold', () => new Promise((resolve) => (releaseHeld = resolve)));
  registerFunction('unhold', () => releaseHeld?.('released'));
  registerFunction('hit', () => ++hits);
  registerFunction('hits', () => hits);
  registerFunction('timerIn', (ms) => new Promise((resolve) => {
    const ctx = AioContext.current();
    const start = performance.now();
    const t = ctx.timer('realtime', 1_000_000, () => resolve(performance.now() - start));
    t.mod(performance.now() + ms);
  }));
  registerFunction('hostTimer', (ms) => new Promise((resolve) => setTimeout(() => resolve('host timer fired'), ms)));
  registerFunction('crash', () => {
    AioContext.current().scheduleOneshot(() => {
      throw new Error('deliberate crash');
    });
    return 'crashing';
  });
  registerFunction('leak', () => {
    AioContext.current().bh(() => {}, { name: 'leaked-by-test' });
    return 'leaked';
  });
  // Says it runs (word 0), then blocks until word 1 is set.
  registerFunction('busyUntilTold', (sab) => {
    const flag = new Int32Array(sab);
    Atomics.store(flag, 0, 1);
    Atomics.wait(flag, 1, 0);
    return 'rested';
  });
  registerFunction('takeOther', (handle, debug) => {
    setAioDebug(debug);
    const other = AioContext.from(handle);
    try {
      other.acquire();
      other.release();
      return 'took it';
    } catch (err) {
      return `${err.code}: ${err.message}`;
    } finally {
      setAioDebug(false);
    }
  });
  registerFunction('holdAndCrash', (kind, handle) => {
    const lock = kind === 'Mutex' ? Mutex.from(handle) : RecMutex.from(handle);
    lock.lock();
    AioContext.current().scheduleOneshot(() => {
      throw new Error('died holding a lock');
    });
    return 'holding';
  });
  registerFunction('holdAndStop', (kind, handle) => {
    const lock = kind === 'Mutex' ? Mutex.from(handle) : RecMutex.from(handle);
    lock.lock();
    return 'holding';
  });
  registerFunction('callBack', async (handle, name, ...args) => AioContext.from(handle).call(name, ...args));
}
