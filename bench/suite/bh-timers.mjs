// Bottom halves and timers, in one thread: what scheduling deferred work costs.

// Browsers have no setImmediate; a MessageChannel chain is what stands in for it there.
const MESSAGE_CHANNEL_CHAIN = {
  name: 'MessageChannel chain (the browser stand-in for setImmediate)',
  kind: 'peer',
  run: (n) =>
    new Promise((resolve) => {
      const ch = new MessageChannel();
      let i = 0;
      ch.port1.onmessage = () => {
        if (++i < n) ch.port2.postMessage(0);
        else {
          ch.port1.close();
          resolve();
        }
      };
      ch.port2.postMessage(0);
    }),
};

export function bhGroup(env) {
  const aio = env.aio;
  let ctx, bh;
  let count = 0;
  let target = 0;
  return {
    id: 'bh',
    title: 'Bottom half schedule + dispatch (a BH that reschedules itself, driven by poll(false))',
    metric: 'latency',
    opName: 'dispatch',
    entries: [
      {
        name: 'aio BH (schedule from its own callback, poll(false))',
        kind: 'ours',
        startup: false,
        setup() {
          ctx = new aio.AioContext({ name: 'bh-bench' });
          bh = ctx.bh(
            () => {
              if (++count < target) bh.schedule();
            },
            { name: 'self-rescheduling' },
          );
        },
        run(n) {
          count = 0;
          target = n;
          bh.schedule();
          while (count < n) ctx.poll(false);
        },
        teardown() {
          bh.delete();
          ctx.close();
        },
      },
      {
        name: 'queueMicrotask chain',
        kind: 'peer',
        ref: true,
        run: (n) =>
          new Promise((resolve) => {
            let i = 0;
            const f = () => (++i < n ? queueMicrotask(f) : resolve());
            queueMicrotask(f);
          }),
      },
      {
        name: 'setImmediate chain',
        kind: 'peer',
        skip: typeof setImmediate === 'function' ? undefined : 'no setImmediate in this runtime',
        run: (n) =>
          new Promise((resolve) => {
            let i = 0;
            const f = () => (++i < n ? setImmediate(f) : resolve());
            setImmediate(f);
          }),
      },
      ...(env.runtime === 'browser' ? [MESSAGE_CHANNEL_CHAIN] : []),
    ],
  };
}

export function timerArmGroup(env) {
  const aio = env.aio;
  let ctx, t, far;
  const noop = () => {};
  return {
    id: 'timer-arm',
    title: 'Timer arm + cancel',
    metric: 'latency',
    opName: 'arm+cancel',
    entries: [
      {
        name: 'aio timer modNs + del (Realtime)',
        kind: 'ours',
        startup: false,
        setup() {
          ctx = new aio.AioContext({ name: 'timer-bench' });
          t = ctx.timer(aio.Clock.Realtime, aio.SCALE_NS, noop);
          far = aio.clockNs(aio.Clock.Realtime) + 3600e9;
        },
        run(n) {
          for (let i = 0; i < n; i++) {
            t.modNs(far + i);
            t.del();
          }
        },
        teardown() {
          t.del();
          ctx.close();
        },
      },
      {
        name: 'setTimeout + clearTimeout',
        kind: 'peer',
        ref: true,
        run(n) {
          for (let i = 0; i < n; i++) clearTimeout(setTimeout(noop, 3_600_000));
        },
      },
    ],
  };
}

/** A pseudo-random permutation of 0..n-1 (fixed seed). */
function permutation(n) {
  const p = Array.from({ length: n }, (_, i) => i);
  let s = 0x9e3779b9;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

export function timerFireGroup(env) {
  const aio = env.aio;
  const N = env.pendingTimers;
  const perm = permutation(N);
  let ctx;
  const virtual = (shuffled) => ({
    name: `aio, ${N.toLocaleString('en-US')} Clock.Virtual timers, deadlines ${shuffled ? 'shuffled' : 'in arming order'}, one advance`,
    kind: 'ours',
    fixedOps: N,
    startup: false,
    setup() {
      ctx ??= new aio.AioContext({ name: 'timer-fire' });
      aio.virtualClock.enable(true);
    },
    run(n) {
      const base = aio.virtualClock.now();
      let fired = 0;
      let last = -1;
      let disorder = 0;
      for (let i = 0; i < n; i++) {
        const d = shuffled ? perm[i % N] : i;
        const t = ctx.timer(aio.Clock.Virtual, aio.SCALE_NS, () => {
          if (d < last) disorder++;
          last = d;
          fired++;
        });
        t.modNs(base + 1 + d);
      }
      aio.virtualClock.advance(n + 2);
      while (fired < n) ctx.poll(false);
      if (disorder) throw new Error(`${disorder} timers fired out of deadline order`);
    },
  });
  return {
    id: 'timer-fire',
    title: `${N.toLocaleString('en-US')} pending timers, armed then fired in order`,
    metric: 'latency',
    opName: 'timer',
    entries: [
      virtual(true),
      {
        ...virtual(false),
        teardown() {
          ctx?.close();
          aio.virtualClock.enable(false);
        },
      },
      {
        name: `setTimeout(0) × ${N.toLocaleString('en-US')}, all pending, fire in arming order`,
        kind: 'peer',
        ref: true,
        fixedOps: N,
        run: (n) =>
          new Promise((resolve, reject) => {
            let fired = 0;
            let disorder = 0;
            for (let i = 0; i < n; i++) {
              setTimeout(() => {
                if (fired !== i) disorder++;
                if (++fired === n) (disorder ? reject(new Error(`${disorder} out of order`)) : resolve());
              }, 0);
            }
          }),
      },
    ],
  };
}
