// The module each IOThread of the browser example loads (in its Web Worker).
//
// Owns: the functions the page calls in the thread: `work` starts the increment loop in
// the thread's AioContext, to run until the page stops it; `ping` answers at once so the
// page can count call round trips while the thread is busy.
import { AioContext, CoMutex, Coroutine, Semaphore, registerFunction } from 'aio-browser';
import { incrementWhileRunning } from './counter.mjs';

export function setup() {
  registerFunction('work', (mutexHandle, sab, slot, finishedHandle) => {
    const mutex = CoMutex.from(mutexHandle);
    const words = new BigInt64Array(sab);
    const finished = Semaphore.from(finishedHandle);
    // The coroutine itself tells the page it is done, through the semaphore, and the call
    // returns at once. Returning co.promise instead would work too, but while a call's
    // promise is pending a browser IOThread's loop gives the host a turn through
    // setTimeout(0) on every pass, and that timer's 4 ms clamp slows every lock hand-off.
    const co = Coroutine.create(function* () {
      try {
        yield* incrementWhileRunning(mutex, words, slot);
      } finally {
        finished.post();
      }
    });
    AioContext.current().coEnter(co);
  });
  registerFunction('ping', () => true);
}
