// The script of the worker the `worker` option tests construct (browser): runs the IOThread
// with one module, as a bundled page's thread script does.
import { registerFunction, serveIOThread } from 'aio-browser';

serveIOThread({
  setup() {
    registerFunction('add', (a, b) => a + b);
  },
});
