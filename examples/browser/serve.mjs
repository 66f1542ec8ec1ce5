#!/usr/bin/env node
// Serves the browser example on 127.0.0.1 (`npm run start -w examples/browser`):
//   node examples/browser/serve.mjs [--port N] [--no-isolation]
// Owns: what the example's server serves (the repository, so the page can load the built
// packages, with / leading to the page) and its command line. --port 0 (the default) picks
// a free port; --no-isolation leaves out the COOP/COEP headers, to see the page explain
// what is missing.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { buildImportMap, startIsolatedServer } from '../../scripts/isolated-server.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PAGE_PATH = '/examples/browser/';

/** Starts the example's server; resolves with `{ port, url, close() }`. */
export function serveExample({ port = 0, isolation = true } = {}) {
  return startIsolatedServer({
    root: ROOT,
    importMap: buildImportMap({ root: ROOT, bare: ['aio-browser', 'aio-core'] }),
    isolation,
    port,
    routes: { '/': { redirect: PAGE_PATH } },
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, 'no-isolation': { type: 'boolean', default: false } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve.mjs: --port takes a port number (0 for any free port), not '${values.port}'`);
    process.exit(2);
  }
  const server = await serveExample({ port, isolation: !values['no-isolation'] });
  console.log(`serving ${server.url}`);
  if (values['no-isolation']) console.log('without COOP/COEP headers: the page will say what is missing');
}
