// comlink RPC target: echo(v) returns v.
import { expose } from 'comlink';
import { runtime } from './platform.mjs';

const api = { echo: (v) => v };
if (runtime === 'node') {
  const { parentPort } = await import('node:worker_threads');
  const { default: nodeEndpoint } = await import('comlink/dist/esm/node-adapter.mjs');
  expose(api, nodeEndpoint(parentPort));
} else {
  expose(api);
}
