// Loaded into the IOThread of the round-trip benchmark: a bottom half that answers the
// main thread's bottom half, and a function for call().
import { BottomHalf, registerFunction } from 'aio-core';

let ping = null;

export function setup(ctx) {
  let reply = null;
  ping = ctx.bh(() => reply.schedule(), { name: 'ping' });
  registerFunction('connect', (mainBh) => {
    reply = BottomHalf.from(mainBh);
    return ping.handle;
  });
  registerFunction('echo', (v) => v);
}

export function teardown() {
  ping.delete();
}
