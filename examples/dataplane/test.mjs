// The dataplane example's test (run by `npm test`): runs main.mjs in a child process the
// way a user would, with a deep and a one-deep queue, and checks that it verified every
// read, found the image consistent at the drain, and exited 0 by itself.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.mjs', import.meta.url));
const runs = [
  { args: ['--size', '4', '--requests', '6000', '--compare'], expect: [/^piscina tasks: +6000 requests/m] },
  { args: ['--size', '1', '--depth', '1', '--requests', '500'], expect: [] },
];

let failed = false;
for (const { args, expect } of runs) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000 });
  const requests = Number(args[args.indexOf('--requests') + 1]);
  const problems = [];
  if (r.error) problems.push(`did not finish: ${r.error.message}`);
  if (r.status !== 0) problems.push(`exit status ${r.status ?? r.signal}`);
  for (const re of [
    new RegExp(`^aio IOThread: +${requests} requests in`, 'm'),
    /^drain after \d+ completions: .* matches the model$/m,
    /^dataplane: every read verified, image consistent at the drain; done$/m,
    ...expect,
  ]) {
    if (!re.test(r.stdout)) problems.push(`no line matching ${re}`);
  }
  const reads = /verified (\d+) reads, (\d+) writes/.exec(r.stdout);
  if (!reads || Number(reads[1]) + Number(reads[2]) !== requests) problems.push(`reads + writes != ${requests}`);
  const label = `main.mjs ${args.join(' ')}`;
  if (problems.length > 0) {
    failed = true;
    console.error(`FAIL ${label}\n  ${problems.join('\n  ')}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`);
  } else {
    console.log(`ok   ${label} (${Date.now() - started} ms)`);
  }
}
process.exit(failed ? 1 : 0);
