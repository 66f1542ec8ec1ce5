#!/usr/bin/env node
/**
 * What a package registry user gets, checked on each package as `npm pack` makes it:
 * publint --strict (package.json fields, exports, files) and @arethetypeswrong/cli with
 * the esm-only profile (the packages are ESM only: CommonJS `require` and node10
 * resolution are out of scope; every ESM resolution must find the types that describe
 * the code). One line per package; a tool's full report only when it fails. Build first.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = [
  { name: 'publint', args: (dir) => [join(root, 'node_modules', 'publint', 'src', 'cli.js'), '--strict', dir] },
  {
    name: 'attw',
    args: (dir) => [join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js'), '--pack', dir, '--profile', 'esm-only', '--format', 'ascii'],
  },
];

let failed = false;
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  const dir = join(root, 'packages', pkg);
  const results = tools.map((tool) => {
    const r = spawnSync(process.execPath, tool.args(dir), { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    return { tool: tool.name, ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  });
  for (const r of results.filter((r) => !r.ok)) console.error(`--- ${r.tool} ${pkg} ---\n${r.output}`);
  console.log(`${pkg}: ${results.map((r) => `${r.tool} ${r.ok ? 'ok' : 'FAILED'}`).join(', ')}`);
  failed ||= results.some((r) => !r.ok);
}
process.exit(failed ? 1 : 0);
