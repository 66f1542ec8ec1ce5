// The module of the typed-calls tests: its functions are defined with defineFunctions, and
// typed-module.d.mts gives their types to the callers.
import { defineFunctions } from 'aio-core';

export const functions = defineFunctions({
  scale: (v, by) => v * by,
  join: async (parts) => parts.join('-'),
});
