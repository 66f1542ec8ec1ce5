// The permissions test's child on deno (see boundary-import-child.mjs). It checks first that
// it really runs without permissions.
import * as aio from 'aio-deno';
import { run } from './boundary-import-child.mjs';

for (const name of ['env', 'read']) {
  if (Deno.permissions.querySync({ name }).state === 'granted') throw new Error(`the child was granted ${name} access`);
}
run(aio);
