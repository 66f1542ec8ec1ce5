/**
 * Yielding to the host event loop for one task: every queued microtask has run, and the
 * host's pending events (messages, I/O) get their turn, when the returned promise settles.
 *
 * Owns: the cheapest unclamped way each runtime offers. setImmediate (Node, Bun, Deno) runs
 * after pending I/O with no delay; browsers have no setImmediate and clamp nested
 * setTimeout(0) to 4 ms, so there a MessageChannel message carries the wake-up (one channel
 * per thread, its port unreferenced so it never holds a process alive). setTimeout(0) is
 * the last resort. Per thread; any code in this thread.
 *
 * Also owns the counts of what this thread waits on that only the host loop can finish: a
 * dedicated IOThread loop, which otherwise sleeps in Atomics.wait, gives the host a turn
 * every millisecond while either is nonzero. Answers it owes (an async function a call
 * started, a worker starting) also hold the process and delay a stop; waits nobody is
 * owed (a promise a coroutine awaits) do not.
 */

interface PortLike {
  onmessage: ((e: unknown) => void) | null;
  postMessage(m: unknown): void;
  unref?(): void;
}
type ChannelConstructor = new () => { port1: PortLike; port2: PortLike };

const g = globalThis as unknown as { setImmediate?: (cb: () => void) => unknown; MessageChannel?: ChannelConstructor };

let waiting: (() => void)[] = [];
let channel: { port1: PortLike; port2: PortLike } | null = null;

function viaChannel(resolve: () => void): void {
  if (!channel) {
    channel = new g.MessageChannel!();
    channel.port1.onmessage = () => {
      const ready = waiting;
      waiting = [];
      for (const r of ready) r();
    };
    channel.port1.unref?.();
  }
  // One message wakes every yield queued before it arrives.
  if (waiting.push(resolve) === 1) channel.port2.postMessage(0);
}

/** Resolves after one host task. Any code in this thread. */
export function yieldToHost(): Promise<void> {
  return new Promise<void>((resolve) => {
    if (g.setImmediate) g.setImmediate(resolve);
    else if (g.MessageChannel) viaChannel(resolve);
    else setTimeout(resolve, 0);
  });
}

let owed = 0;
let watched = 0;

function counter(add: (delta: number) => void): () => void {
  add(1);
  let open = true;
  return () => {
    if (open) {
      open = false;
      add(-1);
    }
  };
}

/**
 * Counts one thing this thread owes an answer for that only the host loop can finish (an
 * async function a call started, a worker starting): the loop gives the host turns, holds
 * the process, and a stopping loop waits for it. Returns the function that ends it
 * (calling that again does nothing). Any code in this thread.
 */
export function expectHostEvent(): () => void {
  return counter((d) => (owed += d));
}

/**
 * Counts one wait that a host event may end but that nobody is owed (a promise a
 * coroutine awaits, which may never settle): the loop gives the host turns while it
 * lasts, and nothing more. Returns the function that ends it. Any code in this thread.
 */
export function watchHostEvent(): () => void {
  return counter((d) => (watched += d));
}

/** How many answers this thread owes that need the host loop (see expectHostEvent). Any code in this thread. */
export function hostEventsExpected(): number {
  return owed;
}

/** Whether anything in this thread waits on the host loop (owed or watched). Any code in this thread. */
export function hostTurnsWanted(): boolean {
  return owed + watched > 0;
}
