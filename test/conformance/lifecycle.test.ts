/**
 * Lifecycles: 200 IOThread create/stop cycles leave no thread or context behind, and a
 * program that stops its IOThreads exits by itself (checked in a child process of the
 * same runtime; in a browser, where there is no process, the same program must finish
 * with every thread stopped).
 */
import { type AioContext, IOThread } from 'aio-under-test';
import { describe, expect, it } from 'vitest';
import { runtime } from './support/runtime.js';

describe('lifecycle', () => {
  it('200 create/stop cycles leave no thread or context behind', async () => {
    const contexts: ReturnType<typeof AioContext.from>[] = [];
    for (let round = 0; round < 50; round++) {
      const threads = await Promise.all([0, 1, 2, 3].map((i) => IOThread.create({ name: `cycle-${round}-${i}` })));
      await Promise.all(threads.map((t) => t.stop()));
      for (const t of threads) {
        expect(t.state).toBe('stopped');
        contexts.push(t.context);
      }
    }
    expect(contexts.length).toBe(200);
    expect(contexts.filter((c) => c.alive).length).toBe(0);
    // Slots were given back: new threads still start.
    const t = await IOThread.create({});
    await t.stop();
  }, 120_000);

  it('the process exits by itself after stop()', async () => {
    const script = new URL('./workers/exit-child.mjs', import.meta.url);
    if (runtime === 'browser') {
      const { IOThread: Thread } = await import('aio-under-test');
      const t = await Thread.create({ module: new URL('./workers/iothread-module.mjs', import.meta.url) });
      expect(await t.call('add', 20, 22)).toBe(42);
      await t.stop();
      expect(t.state).toBe('stopped');
      return;
    }
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const proc = globalThis as { process?: { execPath: string; cwd(): string } };
    const exec = proc.process!.execPath;
    const args = runtime === 'deno' ? ['run', '-A', '--node-modules-dir=manual', fileURLToPath(script)] : [fileURLToPath(script)];
    const r = spawnSync(exec, args, { encoding: 'utf8', timeout: 30_000, cwd: proc.process!.cwd() });
    const exitedAt = Date.now();
    expect(r.error).toBeUndefined();
    expect(r.stderr).not.toMatch(/Error/);
    const [word, doneAt] = r.stdout.trim().split(' ');
    expect(word).toBe('done');
    expect(r.status).toBe(0);
    // Teardown takes milliseconds; a leftover host timer (stop()'s 5 s grace) would show here.
    expect(exitedAt - Number(doneAt)).toBeLessThan(3000);
  }, 60_000);
});
