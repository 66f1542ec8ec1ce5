/**
 * IOThread modules named by a path: a relative path resolves against the working
 * directory also when the directory's name holds characters that mean something in a URL
 * (a space, a '#'), and a path, relative or absolute, is a file name, not a URL: a '#' or a
 * '%' in it is part of the name. Checked in a child process of the same runtime
 * started in such a directory; a browser has no working directory, so there a path
 * resolves against the page, and the test loads a module by its path from the server root.
 */
import { IOThread } from 'aio-under-test';
import { describe, expect, it } from 'vitest';
import { runtime } from './support/runtime.js';

describe('IOThread module paths', () => {
  it('paths load as file names, relative to a working directory named with a space and a #, or absolute', async () => {
    const module = new URL('./workers/iothread-module.mjs', import.meta.url);
    if (runtime === 'browser') {
      const t = await IOThread.create({ module: module.pathname });
      expect(await t.call('add', 20, 22)).toBe(42);
      await t.stop();
      return;
    }
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { fileURLToPath } = await import('node:url');
    const cwd = mkdtempSync(join(tmpdir(), 'aio cwd #'));
    try {
      // The modules the child names: the test module, re-exported. A URL would read the
      // second name's '#' as a fragment and its '%41' as an 'A'. (No '?': Bun 1.4.5 cannot
      // import a file URL holding an escaped one.)
      const names = ['a module.mjs', 'b #2 %41.mjs'];
      for (const name of names) writeFileSync(join(cwd, name), `export * from ${JSON.stringify(module.href)};\n`);
      const paths = ['./a module.mjs', 'b #2 %41.mjs', join(cwd, 'b #2 %41.mjs')];
      const script = fileURLToPath(new URL('./workers/module-base-child.mjs', import.meta.url));
      const exec = (globalThis as { process?: { execPath: string } }).process!.execPath;
      const args = runtime === 'deno' ? ['run', '-A', '--node-modules-dir=manual', script, ...paths] : [script, ...paths];
      const r = spawnSync(exec, args, { encoding: 'utf8', timeout: 30_000, cwd });
      expect(r.error).toBeUndefined();
      expect(r.stdout.trim().split('\n')).toEqual(paths.map(() => 'sum 42'));
      expect(r.status).toBe(0);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 60_000);
});
