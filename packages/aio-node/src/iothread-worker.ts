/** Entry module of an aio-node IOThread: installs the Node host and runs the thread's loop. */
import { runIOThread } from 'aio-core';
import { nodeHost } from './host.js';
import './index.js';

void runIOThread(nodeHost.parentChannel!(), (url) => import(url));
