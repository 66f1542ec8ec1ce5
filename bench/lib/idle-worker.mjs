// A bare worker of this runtime, the floor of the memory benchmark: it answers one
// message so its parent knows it runs, then stays idle, as an idle IOThread does.
import { parentChannel } from './platform.mjs';

const parent = await parentChannel();
parent.onMessage((m) => parent.post(m));
parent.post({ ready: true });
