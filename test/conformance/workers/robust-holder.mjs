// A plain worker (not an IOThread: started with worker_threads on Node, with aio's
// startWorker() elsewhere) for the robust-lock tests. It answers:
//  { op: 'hold', kind, handle }  take the lock behind `handle` (Mutex, RecMutex, LockCnt,
//                                CoMutex, Context) and report { held: kind, thread }
//  { op: 'queue', handle }       queue on the shared CoMutex behind `handle`, report { queued }
//  { op: 'context', group }      join the group of the context handle `group`, create a
//                                context of its own that it never polls, report { handle, thread }
//  { op: 'exit' }                end the worker from inside (process.exit / close())
// and never unlocks anything.
import { AioContext, CoMutex, LockCnt, Mutex, RecMutex, threadId, watched } from 'aio-core';

const node = globalThis.postMessage ? null : await import('node:worker_threads');
const post = (m) => (node ? node.parentPort.postMessage(m) : globalThis.postMessage(m));
const on = (cb) => (node ? node.parentPort.on('message', cb) : globalThis.addEventListener('message', (e) => cb(e.data)));

function take(kind, handle) {
  switch (kind) {
    case 'Mutex':
      return Mutex.from(handle).lock();
    case 'RecMutex':
      return RecMutex.from(handle).lock();
    case 'LockCnt':
      return LockCnt.from(handle).lock();
    case 'CoMutex':
      if (!CoMutex.from(handle).tryLock()) throw new Error('robust-holder: the CoMutex is held');
      return;
    case 'Context':
      return AioContext.from(handle).acquire();
  }
  throw new Error(`robust-holder: unknown kind ${kind}`);
}

on((msg) => {
  if (msg.op === 'hold') {
    take(msg.kind, msg.handle);
    post({ held: msg.kind, thread: threadId() });
  } else if (msg.op === 'queue') {
    // Queued synchronously; the grant would arrive in this thread's main context, which
    // this worker never polls: it ends first.
    void Promise.resolve(CoMutex.from(msg.handle).lock()).catch(() => {});
    post({ queued: true, thread: threadId() });
  } else if (msg.op === 'context') {
    AioContext.from(msg.group);
    const ctx = new AioContext({ name: 'plain-worker' });
    post({ handle: ctx.handle, thread: threadId() });
  } else if (msg.op === 'exit') {
    if (node) process.exit(0);
    else globalThis.close();
  }
});
// No lock is taken before the parent can see this worker end.
await watched();
post({ ready: true });
