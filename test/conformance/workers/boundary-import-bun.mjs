// The permissions test's child on bun (see boundary-import-child.mjs).
import * as aio from 'aio-bun';
import { run } from './boundary-import-child.mjs';

run(aio);
