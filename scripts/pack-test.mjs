#!/usr/bin/env node
/**
 * Packaging test: `npm pack` every package, install the tarballs into a fresh temporary
 * project (nothing from the workspace, no registry lookups for our packages), and run a
 * context there on each package's runtime: aio-node on node, aio-bun on bun, aio-deno on
 * deno, aio-browser and aio-core on node (they are runtime-neutral at import).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['aio-core', 'aio-node', 'aio-bun', 'aio-deno', 'aio-browser'];
const work = mkdtempSync(join(tmpdir(), 'aio-pack-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

try {
  execFileSync('mkdir', ['-p', tarballs, app]);
  for (const p of packages) run('npm', ['pack', '--silent', '--pack-destination', tarballs], join(root, 'packages', p));
  const files = Object.fromEntries(readdirSync(tarballs).map((f) => [f.replace(/-\d+\.\d+\.\d+\.tgz$/, ''), `file:${join(tarballs, f)}`]));
  for (const p of packages) if (!files[p]) throw new Error(`npm pack produced no tarball for ${p}`);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'aio-pack-test', private: true, type: 'module', dependencies: files, overrides: { 'aio-core': files['aio-core'] } }, null, 2),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--silent'], app);

  const program = (pkg) => `
import { AioContext, Clock, SCALE_MS, clockNs, getHost } from '${pkg}';
const ctx = new AioContext({ name: 'packaged' });
const seen = [];
const bh = ctx.bh(() => seen.push('bh'));
bh.schedule();
const t = ctx.timer(Clock.Realtime, SCALE_MS, () => seen.push('timer'));
t.mod(clockNs(Clock.Realtime) / SCALE_MS + 5);
while (seen.length < 2) await ctx.pollAsync();
bh.delete();
ctx.close();
if (seen.join() !== 'bh,timer') throw new Error('unexpected order ' + seen.join());
console.log('${pkg}: ok on ' + getHost().runtime);
`;
  const checks = [
    { pkg: 'aio-core', cmd: process.execPath, args: [] },
    { pkg: 'aio-node', cmd: process.execPath, args: [] },
    { pkg: 'aio-browser', cmd: process.execPath, args: [] },
    { pkg: 'aio-bun', cmd: join(root, 'node_modules', '.bin', 'bun'), args: [] },
    { pkg: 'aio-deno', cmd: join(root, 'node_modules', '.bin', 'deno'), args: ['run', '-A', '--node-modules-dir=manual'] },
  ];
  for (const c of checks) {
    const file = join(app, `${c.pkg}.mjs`);
    writeFileSync(file, program(c.pkg));
    process.stdout.write(run(c.cmd, [...c.args, file], app));
  }
  for (const p of packages) {
    if (!existsSync(join(app, 'node_modules', p, 'dist', 'index.d.ts'))) throw new Error(`${p}: no type declarations in the tarball`);
  }
  console.log('packaging test: every tarball installs and runs');
} finally {
  rmSync(work, { recursive: true, force: true });
}
