// An IOThread module that brings a second copy of aio-core into its thread: the same
// file as the copy the thread runs on, by another URL (a query string makes it another
// module), as a second installed version would be.
import { registerFunction } from '../../../packages/aio-core/dist/index.js?second-copy';

export function setup() {
  registerFunction('never', () => 'registered into the second copy');
}
