/** The ways an IOThread can end itself on the runtime the tests run on (fault-module.mjs' exitWith). */
import { runtime } from '../support/runtime.js';

/** The ways a thread can end itself on this runtime, and what the cause must say. */
export const ways: [string, RegExp][] = [
  ...(runtime === 'browser' ? [] : ([['process.exit', /exited with code 3/]] as [string, RegExp][])),
  ...(runtime === 'deno' ? ([['Deno.exit', /exited with code 4/]] as [string, RegExp][]) : []),
  ...(runtime === 'browser' || runtime === 'deno' ? ([['close', /closed itself|exited with code 0/]] as [string, RegExp][]) : []),
  ['throw', /thrown from a microtask/],
];
