// Run in a child process by the module-path test, in a working directory whose name has a
// space and a '#': each IOThread module named by a path in the arguments (relative to that
// directory, or absolute) must load. Prints the module's answer per path, or the error.
const runtime = globalThis.Bun ? 'bun' : globalThis.Deno ? 'deno' : 'node';
const { IOThread } = await import(`aio-${runtime}`);
const paths = globalThis.Deno ? Deno.args : process.argv.slice(2);

for (const module of paths) {
  try {
    const t = await IOThread.create({ module });
    const sum = await t.call('add', 20, 22);
    await t.stop();
    console.log(`sum ${sum}`);
  } catch (err) {
    console.log(`failed ${module}: ${err.code ?? ''} ${err.message}`);
  }
}
