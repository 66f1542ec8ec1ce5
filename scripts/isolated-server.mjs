// A static file server for pages that use aio in a browser, shared by the browser bench
// (bench/browser/run-browser.mjs) and the browser example (examples/browser/serve.mjs).
//
// Owns: cross-origin isolation (COOP/COEP on every response, CORP so the page may load its
// own scripts), the import map that lets pages import packages by bare name, and the
// rewrite of those bare names in served JavaScript: a Web Worker has no import map, so
// the names must already be URLs in the source it loads.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, relative, sep } from 'node:path';

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
};
/** Export conditions a browser loading ES modules honours, in order of preference. */
const CONDITIONS = ['browser', 'import', 'module', 'default'];

function pickTarget(t) {
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object') {
    for (const c of CONDITIONS) if (c in t) return pickTarget(t[c]);
  }
  return null;
}

/** The first `node_modules`-style directory in `lookIn` that has package `name`. */
function packageDir(name, lookIn) {
  for (const base of lookIn) {
    const dir = join(base, name);
    try {
      statSync(join(dir, 'package.json'));
      return dir;
    } catch {}
  }
  throw new Error(`package ${name} is not installed (run npm install)`);
}

/**
 * The import map for packages `bare` (and their exported subpaths): bare name -> URL path
 * of the file under `root`. Packages are looked up in the `lookIn` directories (default:
 * root's node_modules); workspace links are followed, so the URL names the real file.
 */
export function buildImportMap({ root, bare, lookIn = [join(root, 'node_modules')] }) {
  const realRoot = realpathSync(root);
  const map = {};
  for (const name of bare) {
    const dir = realpathSync(packageDir(name, lookIn));
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const urlOf = (rel) => `/${relative(realRoot, join(dir, rel)).split(sep).join('/')}`;
    const exp = pkg.exports;
    if (exp && typeof exp === 'object' && Object.keys(exp).some((k) => k.startsWith('.'))) {
      for (const [key, value] of Object.entries(exp)) {
        if (key.includes('*') || key === './package.json') continue;
        const target = pickTarget(value);
        if (target) map[key === '.' ? name : `${name}/${key.slice(2)}`] = urlOf(target);
      }
    } else {
      const target = pickTarget(exp) ?? pkg.module ?? pkg.main ?? 'index.js';
      map[name] = urlOf(target);
    }
  }
  return map;
}

/** Replaces the bare specifiers `map` knows in static and dynamic imports and re-exports. */
function rewriteBare(source, map) {
  return source.replace(/(\bimport\s*\(\s*|\bfrom\s*|\bimport\s+)(['"])([^'"\s]+)\2/g, (all, head, q, spec) =>
    Object.hasOwn(map, spec) ? `${head}${q}${map[spec]}${q}` : all,
  );
}

/** Puts the import map first in the head: it must precede every module script. */
function withImportMap(html, map) {
  const tag = `<script type="importmap">${JSON.stringify({ imports: map })}</script>`;
  return html.replace(/<head[^>]*>/i, (head) => head + tag);
}

/**
 * Starts serving `root` on 127.0.0.1; resolves with `{ port, url, close() }` once it
 * listens. `isolation: false` leaves out the COOP/COEP/CORP headers (to see a page without
 * shared memory). Every HTML page gets `importMap`, every script has its bare names
 * rewritten. `routes` maps a URL path to generated content, `{ type, body }`, or to
 * `{ redirect: path }`; a path ending in `/` serves that directory's index.html.
 */
export function startIsolatedServer({ root, importMap = {}, isolation = true, port = 0, routes = {} }) {
  const base = normalize(root.endsWith(sep) ? root : root + sep);
  const headers = { ...(isolation ? ISOLATION_HEADERS : {}), 'Cache-Control': 'no-store' };
  const reply = (res, status, type, body) => {
    if (type.startsWith('text/html')) body = withImportMap(body.toString('utf8'), importMap);
    else if (type.startsWith('text/javascript')) body = rewriteBare(body.toString('utf8'), importMap);
    res.writeHead(status, { ...headers, 'Content-Type': type }).end(body);
  };
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400, headers).end();
      return;
    }
    const route = routes[path];
    if (route?.redirect) {
      res.writeHead(302, { ...headers, Location: route.redirect }).end();
      return;
    }
    if (route) {
      reply(res, 200, route.type, route.body);
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204, headers).end();
      return;
    }
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(base)) {
      res.writeHead(403, headers).end();
      return;
    }
    let body;
    try {
      body = readFileSync(file);
    } catch {
      res.writeHead(404, headers).end(`not found: ${path}`);
      return;
    }
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    reply(res, 200, type, body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolve({
        port: actual,
        url: `http://127.0.0.1:${actual}/`,
        close: () =>
          new Promise((r) => {
            server.close(r);
            server.closeAllConnections();
          }),
      });
    });
  });
}
