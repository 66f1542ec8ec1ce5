/** Entry module of an aio-deno IOThread: installs the host and runs the thread's loop. */
import { runIOThread } from 'aio-core';
import { denoHost } from './host.js';
import './index.js';

void runIOThread(denoHost.parentChannel!(), (url) => import(url));
