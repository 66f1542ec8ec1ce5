// Run in a child process by the module-path test, in a working directory whose name has a
// space and a '#': an IOThread module named by a path relative to that directory must
// load. Prints the module's answer, or the error.
const runtime = globalThis.Bun ? 'bun' : globalThis.Deno ? 'deno' : 'node';
const { IOThread } = await import(`aio-${runtime}`);

try {
  const t = await IOThread.create({ module: './a module.mjs' });
  const sum = await t.call('add', 20, 22);
  await t.stop();
  console.log(`sum ${sum}`);
} catch (err) {
  console.log(`failed ${err.code ?? ''} ${err.message}`);
}
