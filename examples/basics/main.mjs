// A first AioContext: what runs when.
//
// A context dispatches in a fixed order on every poll: bottom halves, then event-notifier
// handlers, then due timers. This program schedules a little of each and prints the
// order, the time, and what each poll returned ("progress").
import { AioContext, Clock, EventNotifier, SCALE_MS, clockNs } from 'aio-node';

const ctx = new AioContext({ name: 'basics' });
const t0 = clockNs(Clock.Realtime);
const at = () => `${((clockNs(Clock.Realtime) - t0) / SCALE_MS).toFixed(1).padStart(6)} ms`;
const log = (what) => console.log(`${at()}  ${what}`);

// A bottom half that re-schedules itself three times: each run lands in the next poll.
let runs = 0;
const tick = ctx.bh(() => {
  log(`bottom half 'tick' run ${++runs}`);
  if (runs < 3) tick.schedule();
}, { name: 'tick' });

// A notifier whose handler runs in the handler phase, after bottom halves. The second
// ring (from the last timer) ends the program.
const doorbell = new EventNotifier();
let rings = 0;
ctx.setEventNotifier(doorbell, (e) => {
  e.testAndClear();
  log(`handler 'doorbell' (ring ${++rings})`);
});

// Two timers with the same deadline fire in the order they were armed; a third later.
const deadline = clockNs(Clock.Realtime) + 20 * SCALE_MS;
const first = ctx.timer(Clock.Realtime, 1, () => log("timer 'first' (armed first)"));
const second = ctx.timer(Clock.Realtime, 1, () => log("timer 'second' (same deadline)"));
const last = ctx.timer(Clock.Realtime, SCALE_MS, () => {
  log("timer 'last' rings the doorbell");
  doorbell.set();
});
first.modNs(deadline);
second.modNs(deadline);
last.mod(clockNs(Clock.Realtime) / SCALE_MS + 40);

tick.schedule();
doorbell.set();
ctx.scheduleOneshot(() => log('oneshot (runs once, no object to delete)'));

// poll(true) sleeps in Atomics.wait until there is work or the next deadline.
let pass = 0;
while (rings < 2) {
  const progress = ctx.poll(true);
  console.log(`${at()}  -- poll ${++pass} returned ${progress}`);
}

// Everything a context owns is released before close(); leaks are named, not ignored.
tick.delete();
ctx.setEventNotifier(doorbell, null);
ctx.close();
console.log(`${at()}  done: ${pass} polls; the context is closed and the process exits`);
