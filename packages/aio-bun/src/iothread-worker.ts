/** Entry module of an aio-bun IOThread: installs the host and runs the thread's loop. */
import { runIOThread } from 'aio-core';
import { bunHost } from './host.js';
import './index.js';

void runIOThread(bunHost.parentChannel!(), (url) => import(url));
