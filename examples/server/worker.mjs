// The IOThread module of examples/server: the request work, run in each IOThread's own
// AioContext.
//
// A request is a simulated disk read (a coroutine sleeping `delayMs` on the thread's
// context, as QEMU's block layer sleeps in qemu_co_sleep_ns) followed by a SHA-256 of
// the payload. The sleep does not hold the thread, so one IOThread serves many requests
// at once; only the hashing occupies it.
import { createHash } from 'node:crypto';
import { Clock, Coroutine, SCALE_MS, registerFunction, sleep } from 'aio-node';

export function setup(ctx) {
  registerFunction('digest', (payload, delayMs) => {
    const co = Coroutine.create(function* () {
      yield* sleep(Clock.Realtime, delayMs * SCALE_MS);
      return createHash('sha256').update(payload).digest('hex');
    });
    // Runs it to its first yield; the reply goes back when its promise settles.
    ctx.coEnter(co);
    return co.promise;
  });
}
