// The IOThread module of the robust-lock tests: blocking lockers (so the same assertions
// run where the main thread may not block) and a thread that dies holding another
// IOThread's context lock.
import { AioContext, LockCnt, Mutex, RecMutex, registerFunction } from 'aio-core';

/** Runs `fn`; returns { code, ms, holding } with the error code (or 'ok') and how long it took. */
function timed(fn) {
  const start = performance.now();
  try {
    const value = fn();
    return { code: 'ok', value, ms: performance.now() - start };
  } catch (err) {
    return { code: err.code ?? String(err), ms: performance.now() - start };
  }
}

export function setup() {
  registerFunction('add', (a, b) => a + b);
  registerFunction('timedLock', (kind, handle, ms) => {
    const lock = kind === 'Mutex' ? Mutex.from(handle) : RecMutex.from(handle);
    const r = timed(() => lock.timedLock(ms));
    // OwnerDiedError leaves the caller holding it: the unlock must succeed.
    if (r.code === 'ERR_AIO_OWNER_DIED') lock.unlock();
    return r;
  });
  registerFunction('lockCnt', (op, handle) => {
    const lc = LockCnt.from(handle);
    const r = timed(() => lc[op]());
    if (r.code === 'ERR_AIO_OWNER_DIED') {
      // Held now, the counter as before the call: start the visit the call wanted.
      if (op === 'inc') lc.incAndUnlock();
      else lc.unlock();
    }
    return { ...r, count: lc.count() };
  });
  registerFunction('holdContextAndCrash', (handle) => {
    AioContext.from(handle).acquire();
    AioContext.current().scheduleOneshot(() => {
      throw new Error('died holding another context');
    });
    return 'holding';
  });
}
