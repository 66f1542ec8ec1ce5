// Run in a child process by the permissions test, through the entry of its runtime
// (boundary-import-<runtime>.mjs, which imports the package statically: on Deno a dynamic
// import would need read permission). Runs a context and prints "ok" and how many times
// its bottom half ran. On Deno it runs with no permission at all, with AIO_DEBUG set in its
// environment (which it may not read).
export function run({ AioContext }) {
  const ctx = new AioContext({ name: 'no-permissions' });
  let runs = 0;
  const bh = ctx.bh(() => runs++);
  bh.schedule();
  ctx.acquire();
  while (ctx.poll(false));
  ctx.release();
  bh.delete();
  while (ctx.poll(false));
  ctx.close();
  console.log(`ok ${runs}`);
}
