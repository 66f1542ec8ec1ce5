// The JSR entry (scripts/jsr.mjs publishes it): the built module, typed by its declarations.
// @ts-types="./dist/index.d.ts"
export * from './dist/index.js';
