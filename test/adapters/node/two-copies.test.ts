/** A second copy of aio-core in an aio-node IOThread is refused, naming both copies (see ../two-copies.ts). */
import { IOThread } from 'aio-node';
import { it } from 'vitest';
import { expectSecondCopyRejected } from '../two-copies.js';

it('an IOThread whose module loads a second aio-core fails to start, naming both copies', async () => {
  await expectSecondCopyRejected(IOThread);
});
