#!/usr/bin/env node
/**
 * Publishes aio-core and aio-deno to JSR (`node scripts/jsr.mjs`), or checks that JSR would
 * take them (`--dry-run`, in npm test; no network: the two form one Deno workspace, so
 * aio-deno's import of aio-core resolves to the staged aio-core).
 *
 * JSR gets the same built code as npm: each package's jsr.json names it and its entry
 * (jsr.ts: dist/index.js typed by dist/index.d.ts); the rest is derived here so it cannot
 * drift from package.json: the version, the license, and the range of aio-core, which
 * becomes a `jsr:` import. The declarations lose the `/// <reference lib>` directive
 * scripts/public-types.mjs adds for npm consumers, which JSR refuses (Deno's own lib has
 * what it names). Build first (npm run build).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['aio-core', 'aio-deno'];
const dryRun = process.argv.includes('--dry-run');
const json = (path) => JSON.parse(readFileSync(path, 'utf8'));
const jsrNames = Object.fromEntries(packages.map((p) => [p, json(join(root, 'packages', p, 'jsr.json')).name]));
const stage = mkdtempSync(join(tmpdir(), 'aio-jsr-'));

try {
  for (const p of packages) {
    const from = join(root, 'packages', p);
    const to = join(stage, p);
    mkdirSync(join(to, 'dist'), { recursive: true });
    const pkg = json(join(from, 'package.json'));
    const imports = Object.fromEntries(Object.entries(pkg.dependencies ?? {}).map(([name, range]) => [name, `jsr:${jsrNames[name]}@${range}`]));
    writeFileSync(join(to, 'jsr.json'), JSON.stringify({ ...json(join(from, 'jsr.json')), version: pkg.version, license: pkg.license, imports }, null, 2));
    for (const f of ['jsr.ts', 'README.md', 'LICENSE']) copyFileSync(join(from, f), join(to, f));
    for (const f of readdirSync(join(from, 'dist'))) {
      if (f.endsWith('.js')) copyFileSync(join(from, 'dist', f), join(to, 'dist', f));
      if (f.endsWith('.d.ts')) writeFileSync(join(to, 'dist', f), readFileSync(join(from, 'dist', f), 'utf8').replace(/^\/\/\/ <reference lib=.*\n/gm, ''));
    }
  }
  writeFileSync(join(stage, 'deno.json'), JSON.stringify({ workspace: packages.map((p) => `./${p}`) }));
  const args = ['publish', ...(dryRun ? ['--dry-run', '--allow-dirty', '--quiet'] : [])];
  const r = spawnSync(join(root, 'node_modules', '.bin', 'deno'), args, { cwd: stage, stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(stage, { recursive: true, force: true });
}
