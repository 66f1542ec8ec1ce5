// A worker for the cross-thread wake-up tests. It answers one command:
//  { op: 'notify', handle, delayMs }  wait, then notify the context behind `handle`
//  { op: 'schedule', handle, delayMs } wait, then schedule the bottom half behind `handle`
//  { op: 'set', handle, delayMs }     wait, then set the event notifier behind `handle`
//  { op: 'oneshot', handle, name, args, delayMs } wait, then run registered function
//                                     `name` once in the context behind `handle`
//  { op: 'serve' }                    create a context, send its handle, block in poll(true)
//                                     until woken, report what the poll returned
import { AioContext, BottomHalf, EventNotifier } from 'aio-core';

const port = globalThis.postMessage ? globalThis : (await import('node:worker_threads')).parentPort;
const on = (cb) => (port.on ? port.on('message', cb) : (port.onmessage = (e) => cb(e.data)));
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

on((msg) => {
  if (msg.op === 'serve') {
    const ctx = new AioContext({ name: 'worker' });
    while (ctx.poll(false));
    port.postMessage({ handle: ctx.handle });
    const start = performance.now();
    const progress = ctx.poll(true);
    port.postMessage({ progress, waitedMs: performance.now() - start });
    ctx.close();
    return;
  }
  sleep(msg.delayMs);
  if (msg.op === 'notify') AioContext.from(msg.handle).notify();
  if (msg.op === 'schedule') BottomHalf.from(msg.handle).schedule();
  if (msg.op === 'set') EventNotifier.from(msg.handle).set();
  if (msg.op === 'oneshot') AioContext.from(msg.handle).scheduleOneshot(msg.name, ...msg.args);
  port.postMessage({ done: msg.op });
});
