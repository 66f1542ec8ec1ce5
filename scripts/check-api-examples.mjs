#!/usr/bin/env node
/**
 * Checks the API reference's examples (npm test runs it after TypeDoc): every exported
 * class has an `@example`, and every `@example` of any documented name type-checks against
 * the packages' sources (each example is a module of its own, importing what it uses).
 * Reads the reflection tree TypeDoc writes with the HTML (`docs/api.json`).
 *
 *   node scripts/check-api-examples.mjs
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'test', '.api-examples');
const CLASS = 128;

const project = JSON.parse(readFileSync(join(root, 'docs', 'api.json'), 'utf8'));
const examples = [];
const missing = [];
const seen = new Set();
const visit = (node, path) => {
  const name = path ? `${path}.${node.name}` : node.name;
  const tags = (node.comment?.blockTags ?? []).concat(node.signatures?.flatMap((s) => s.comment?.blockTags ?? []) ?? []);
  const own = tags.filter((t) => t.tag === '@example');
  // A re-exported class appears in every adapter's module: it needs its example once.
  if (node.kind === CLASS && !seen.has(node.name)) {
    seen.add(node.name);
    if (own.length === 0) missing.push(name);
  }
  for (const tag of own) {
    const text = tag.content.map((part) => part.text).join('');
    for (const m of text.matchAll(/```(?:ts|typescript)\n([\s\S]*?)```/g)) examples.push({ name, code: m[1] });
  }
  for (const child of node.children ?? []) visit(child, node.kind === 1 ? '' : name);
};
visit(project, '');

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const unique = new Map(examples.map((e) => [e.code, e]));
let n = 0;
for (const { name, code } of unique.values()) writeFileSync(join(work, `${String(++n).padStart(3, '0')}-${name.replace(/[^a-z0-9]+/gi, '-')}.ts`), `${code}\nexport {};\n`);
const adapters = ['aio-core', 'aio-node', 'aio-bun', 'aio-deno', 'aio-browser'];
writeFileSync(
  join(work, 'tsconfig.json'),
  JSON.stringify({
    extends: '../../tsconfig.base.json',
    compilerOptions: {
      noEmit: true,
      lib: ['ES2024', 'ESNext.Disposable', 'DOM'],
      types: ['node'],
      noUnusedLocals: false,
      paths: Object.fromEntries(adapters.map((p) => [p, [`../../packages/${p}/src/index.ts`]])),
    },
    include: ['*.ts'],
  }),
);
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', work], { encoding: 'utf8' });
const typeErrors = `${tsc.stdout}${tsc.stderr}`.trim();
if (tsc.status === 0) rmSync(work, { recursive: true, force: true });

if (missing.length > 0) console.error(`classes without an @example: ${missing.join(', ')}`);
if (tsc.status !== 0) console.error(`@example blocks that do not type-check (files in ${work}):\n${typeErrors}`);
if (missing.length > 0 || tsc.status !== 0) process.exit(1);
console.log(`API examples: every one of ${seen.size} classes has one; ${unique.size} examples type-check`);
