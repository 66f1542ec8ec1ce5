// The script of the bundled page's IOThread: the page's `worker` factory starts it, and the
// bundler bundles it with aio-browser into one worker script.
import { registerFunction, serveIOThread } from 'aio-browser';

serveIOThread({
  setup() {
    registerFunction('add', (a, b) => a + b);
  },
});
