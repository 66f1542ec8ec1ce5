// A worker that loads aio's code and nothing else, then idles as idle-worker.mjs does: what
// an IOThread costs before it runs anything (the memory benchmark's second floor).
import 'aio-core';
import { parentChannel } from './platform.mjs';

const parent = await parentChannel();
parent.onMessage((m) => parent.post(m));
parent.post({ ready: true });
