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
 * Also owns the count of things this thread waits on that only the host loop can finish
 * (an async function a call started, a promise a coroutine awaits, a worker starting): a
 * dedicated IOThread loop, which otherwise sleeps in Atomics.wait, gives the host a turn
 * every millisecond while it is nonzero.
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

let hostWaits = 0;

/**
 * Counts one wait that needs the host loop to turn; returns the function that ends it
 * (calling that again does nothing). Any code in this thread.
 */
export function expectHostEvent(): () => void {
  hostWaits++;
  let open = true;
  return () => {
    if (open) {
      open = false;
      hostWaits--;
    }
  };
}

/** How many waits this thread has that need the host loop. Any code in this thread. */
export function hostEventsExpected(): number {
  return hostWaits;
}
