/**
 * One conformance suite, four runtimes. The `server` project runs under whichever runtime
 * executes vitest (node, `bun --bun`, or `deno run`), and the `chromium` project runs the
 * same files in Debian's Chromium, on a page served from 127.0.0.1 with COOP/COEP so it is
 * cross-origin isolated. `aio-under-test` resolves to the built adapter of the runtime
 * running the tests (the code that ships, whose IOThread worker entries exist as .js), so
 * test files never name a runtime. `npm test` builds first.
 */
import { resolve } from 'node:path';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { CHROMIUM, CHROMIUM_ARGS, profileRemovedAtExit } from './scripts/headless-chromium.mjs';

const g = globalThis as { Bun?: unknown; Deno?: unknown };
const serverRuntime = g.Bun ? 'bun' : g.Deno ? 'deno' : 'node';
const adapter = (name: string) => resolve(import.meta.dirname, `packages/aio-${name}/dist/index.js`);
const include = ['test/conformance/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        resolve: { alias: { 'aio-under-test': adapter(serverRuntime) } },
        test: { name: 'server', include, exclude: ['**/*.browser.test.ts'] },
      },
      ...['node', 'bun', 'deno'].map((rt) => ({
        extends: true as const,
        test: { name: `adapter-${rt}`, include: [`test/adapters/${rt}/**/*.test.ts`] },
      })),
      {
        extends: true,
        resolve: { alias: { 'aio-under-test': adapter('browser') } },
        server: {
          host: '127.0.0.1',
          headers: {
            'Cross-Origin-Opener-Policy': 'same-origin',
            'Cross-Origin-Embedder-Policy': 'require-corp',
            'Cross-Origin-Resource-Policy': 'same-origin',
          },
        },
        test: {
          name: 'chromium',
          include,
          fileParallelism: false,
          browser: {
            enabled: true,
            headless: true,
            api: { host: '127.0.0.1' },
            provider: playwright({
              persistentContext: profileRemovedAtExit('aio-chromium-'),
              launchOptions: {
                executablePath: CHROMIUM,
                args: CHROMIUM_ARGS,
              },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
