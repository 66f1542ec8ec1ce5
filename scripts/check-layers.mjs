// Checks that aio-core's layers import one way (npm test runs it):
//   base <- locks <- loop <- threads <- coroutine <- index.ts
// A file may import its own layer and the layers below it. The only imports upward are
// type-only ones of the loop's public surface, which names the upper layers' classes
// (AioContext.threadPool is a ThreadPool, coEnter takes a Coroutine, from() gives a
// RemoteContext): they are listed here, and any other upward import fails the check.
//   node scripts/check-layers.mjs
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

const SRC = join(import.meta.dirname, '..', 'packages', 'aio-core', 'src');
const ORDER = ['base', 'locks', 'loop', 'threads', 'coroutine'];
const TYPE_ONLY_UPWARD = new Set([
  'loop/context.ts -> threads/remote-context.ts',
  'loop/context.ts -> threads/thread-pool.ts',
  'loop/context.ts -> coroutine/coroutine.ts',
  'loop/context-extensions.ts -> threads/remote-context.ts',
  'loop/context-extensions.ts -> threads/thread-pool.ts',
  'loop/context-extensions.ts -> coroutine/coroutine.ts',
]);

const layerOf = (file) => {
  const top = file.split('/')[0];
  return top === 'index.ts' ? ORDER.length : ORDER.indexOf(top);
};
const walk = (dir) => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
const files = walk(SRC).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
const problems = [];
const usedExceptions = new Set();
for (const abs of files) {
  const file = relative(SRC, abs).split(sep).join('/');
  if (layerOf(file) < 0) problems.push(`${file}: not in a layer folder (${ORDER.join(', ')})`);
  const text = readFileSync(abs, 'utf8');
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'/gm)) {
    const target = relative(SRC, normalize(join(dirname(abs), m[3].replace(/\.js$/, '.ts')))).split(sep).join('/');
    if (layerOf(target) <= layerOf(file)) continue;
    const edge = `${file} -> ${target}`;
    if (m[2] && TYPE_ONLY_UPWARD.has(edge)) usedExceptions.add(edge);
    else problems.push(`${edge}: ${m[2] ? 'a type-only' : 'an'} import upward`);
  }
}
for (const edge of TYPE_ONLY_UPWARD) if (!usedExceptions.has(edge)) problems.push(`${edge}: listed as an exception but no longer imported (remove it from the list)`);
if (problems.length > 0) {
  console.error(`aio-core layers (${ORDER.join(' <- ')}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`aio-core layers import one way (${ORDER.join(' <- ')} <- index.ts): ${files.length} files, ${TYPE_ONLY_UPWARD.size} type-only imports of upper layers' classes by the loop's public surface`);
