/**
 * The script side of an IOThread whose worker the program constructs itself (the `worker`
 * option of `IOThread.create`). A bundler bundles a worker it finds as `new Worker(new
 * URL('./x.js', import.meta.url), ...)` in the program's code with everything that script
 * imports, so the thread's modules and aio load as one bundle in the worker; a module given
 * by URL (`module`) would be copied as a file of its own, its imports unresolved.
 */
import { runMadeWorkerIOThread } from 'aio-core';

/**
 * Runs this worker as an IOThread with `modules`, each a module namespace (`import * as m`)
 * or an object with the same optional exports as an IOThread's `module`: `setup(ctx)`, run
 * in order before `IOThread.create()` resolves, and `teardown(ctx)`, run when the thread
 * stops. Call it once, at the top level of the script that the page's `worker` factory
 * starts:
 *
 * ```ts
 * // adder-thread.js
 * import { registerFunction, serveIOThread } from 'aio-browser';
 * serveIOThread({ setup: () => registerFunction('add', (a: number, b: number) => a + b) });
 * ```
 *
 * Throws for a module that is not an object, and where the worker did not get the name its
 * factory was given. The worker's thread,
 * before it returns to its event loop.
 */
export function serveIOThread(...modules: object[]): void {
  void runMadeWorkerIOThread(modules);
}
