/** Entry module of an aio-deno IOThread: installs the host and runs the thread's loop. */
import { runIOThread, webWorkerParent } from 'aio-core';
import './index.js';

void runIOThread(webWorkerParent(), (url) => import(url));
