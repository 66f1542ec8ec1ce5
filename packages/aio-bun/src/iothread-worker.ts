/** Entry module of an aio-bun IOThread: installs the host and runs the thread's loop. */
import { runIOThread, webWorkerParent } from 'aio-core';
import './index.js';

void runIOThread(webWorkerParent(), (url) => import(url));
