#!/usr/bin/env node
/**
 * Packaging test: `npm pack` every package, install the tarballs into a fresh temporary
 * project (nothing from the workspace, no registry lookups for our packages), and there:
 * - run a context on each package's runtime: aio-node on node, aio-bun on bun, aio-deno on
 *   deno, aio-browser and aio-core on node (they are runtime-neutral at import);
 * - run a two-file IOThread program (a main module and a thread module that registers
 *   functions, awaited calls, a clean stop) on node, bun and deno (with only
 *   `--allow-read`), each of which must exit by itself;
 * - type-check it as a user's compiler does: the node program is TypeScript, compiled
 *   under `module`/`moduleResolution` nodenext with @types/node and without skipLibCheck,
 *   and the compiled program is what runs on node; the other packages' declarations are
 *   checked with nothing but `lib: ["es2022"]` (no DOM, no @types/node).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['aio-core', 'aio-node', 'aio-bun', 'aio-deno', 'aio-browser'];
const work = mkdtempSync(join(tmpdir(), 'aio-pack-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');
// A program that does not exit by itself fails here instead of hanging the test.
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 120_000 });
const bun = join(root, 'node_modules', '.bin', 'bun');
const deno = join(root, 'node_modules', '.bin', 'deno');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

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
    { pkg: 'aio-bun', cmd: bun, args: [] },
    { pkg: 'aio-deno', cmd: deno, args: ['run', '--allow-read'] },
  ];
  for (const c of checks) {
    const file = join(app, `${c.pkg}.mjs`);
    writeFileSync(file, program(c.pkg));
    process.stdout.write(run(c.cmd, [...c.args, file], app));
  }
  for (const p of packages) {
    for (const f of ['dist/index.d.ts', 'README.md', 'LICENSE']) if (!existsSync(join(app, 'node_modules', p, f))) throw new Error(`${p}: no ${f} in the tarball`);
  }

  // The IOThread program: the thread module registers, main calls and stops it. The node
  // one is TypeScript (annotated where strict mode needs it).
  const typed = (pkg, annotation) => (pkg === 'aio-node' ? annotation : '');
  const threadModule = (pkg) => `
import { registerFunction } from '${pkg}';

export function setup(ctx${typed(pkg, ': AioContext')}) {
  registerFunction('add', (a${typed(pkg, ': number')}, b${typed(pkg, ': number')}) => a + b);
  registerFunction('where', () => ctx.name);
}
`;
  const mainModule = (pkg, thread) => `
import { IOThread, getHost } from '${pkg}';

const disk = await IOThread.create({ name: 'disk', module: new URL('./${thread}', import.meta.url) });
try {
  const sum = await disk.call('add', 2, 3);
  const where = await disk.call('where');
  if (sum !== 5 || where !== 'disk') throw new Error(\`unexpected answers: \${sum}, \${where}\`);
} finally {
  await disk.stop();
}
console.log('${pkg}: IOThread program ok on ' + getHost().runtime);
`;
  mkdirSync(join(app, 'node-src'));
  writeFileSync(join(app, 'node-src', 'disk.ts'), `import type { AioContext } from 'aio-node';\n${threadModule('aio-node')}`);
  writeFileSync(join(app, 'node-src', 'main.ts'), mainModule('aio-node', 'disk.js'));
  const strict = { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: false };
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { ...strict, lib: ['es2022'], types: ['node'], typeRoots: [join(root, 'node_modules', '@types')], rootDir: 'node-src', outDir: 'node-out' }, include: ['node-src'] }),
  );
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
  // The other packages' declarations, where nothing declares DOM or Node globals.
  writeFileSync(
    join(app, 'types.ts'),
    `${['aio-core', 'aio-bun', 'aio-deno', 'aio-browser'].map((p, i) => `import * as p${i} from '${p}';`).join('\n')}
{
  using ctx = new p0.AioContext({ name: 'typed' });
  void [ctx, p1.bunSocketHandler, p2.setConnHandler, p3.crossOriginIsolationProblem];
}
`,
  );
  writeFileSync(join(app, 'tsconfig.types.json'), JSON.stringify({ compilerOptions: { ...strict, lib: ['es2022'], types: [], noEmit: true }, files: ['types.ts'] }));
  run(process.execPath, [tsc, '-p', 'tsconfig.types.json'], app);
  console.log('packaging test: the declarations type-check under nodenext without skipLibCheck');

  const programs = [
    { pkg: 'aio-node', cmd: process.execPath, args: [], main: join('node-out', 'main.js') },
    { pkg: 'aio-bun', cmd: bun, args: [], main: 'aio-bun-main.mjs' },
    { pkg: 'aio-deno', cmd: deno, args: ['run', '--allow-read'], main: 'aio-deno-main.mjs' },
  ];
  for (const p of programs) {
    if (p.pkg !== 'aio-node') {
      writeFileSync(join(app, `${p.pkg}-thread.mjs`), threadModule(p.pkg));
      writeFileSync(join(app, p.main), mainModule(p.pkg, `${p.pkg}-thread.mjs`));
    }
    process.stdout.write(run(p.cmd, [...p.args, p.main], app));
  }
  console.log('packaging test: every tarball installs and runs');
} finally {
  rmSync(work, { recursive: true, force: true });
}
