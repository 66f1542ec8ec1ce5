// Checks that aio-core's layers import one way (npm test runs it):
//   base <- locks <- loop <- threads <- coroutine <- index.ts
// A file may import its own layer and the layers below it, type-only imports included:
// what the loop hands out that upper layers build (the thread pool, remote contexts, the
// coroutine it enters) it names through the interfaces of loop/services.ts.
//   node scripts/check-layers.mjs
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

const SRC = join(import.meta.dirname, '..', 'packages', 'aio-core', 'src');
const ORDER = ['base', 'locks', 'loop', 'threads', 'coroutine'];
const layerOf = (file) => {
  const top = file.split('/')[0];
  return top === 'index.ts' ? ORDER.length : ORDER.indexOf(top);
};
const walk = (dir) => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
const files = walk(SRC).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
const problems = [];
for (const abs of files) {
  const file = relative(SRC, abs).split(sep).join('/');
  if (layerOf(file) < 0) problems.push(`${file}: not in a layer folder (${ORDER.join(', ')})`);
  const text = readFileSync(abs, 'utf8');
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'/gm)) {
    const target = relative(SRC, normalize(join(dirname(abs), m[3].replace(/\.js$/, '.ts')))).split(sep).join('/');
    if (layerOf(target) <= layerOf(file)) continue;
    problems.push(`${file} -> ${target}: ${m[2] ? 'a type-only' : 'an'} import upward`);
  }
}
if (problems.length > 0) {
  console.error(`aio-core layers (${ORDER.join(' <- ')}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`aio-core layers import one way (${ORDER.join(' <- ')} <- index.ts): ${files.length} files`);
