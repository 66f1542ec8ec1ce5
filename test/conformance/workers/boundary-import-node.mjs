// The permissions test's child on node (see boundary-import-child.mjs).
import * as aio from 'aio-node';
import { run } from './boundary-import-child.mjs';

run(aio);
