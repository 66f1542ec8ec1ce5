// A worker that forges thread start requests on the spawner port its window gave it (see
// web-worker-relay.ts), then reports what it sent. Browsers only: elsewhere no window serves.
import { spawnerPort } from 'aio-core';

globalThis.onmessage = () => {
  const port = spawnerPort();
  if (!port) return globalThis.postMessage('no spawner port');
  port.postMessage('not a request');
  port.postMessage({ op: 'spawn', entry: 42, modules: [], port: null });
  const { port2 } = new MessageChannel();
  port.postMessage({ op: 'spawn', entry: 'not a url', modules: [], port: port2 }, [port2]);
  globalThis.postMessage('sent 3');
};
