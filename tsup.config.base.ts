/**
 * The build every aio package shares, so the five packages cannot drift apart: ESM only,
 * with declarations and source maps, for ES2022, one file per entry (no shared chunk
 * files). A package's tsup.config.ts names its entries and nothing else.
 */
import type { Options } from 'tsup';

/** The tsup config of a package whose public modules are `entry` (paths from the package root). */
export function packageBuild(entry: string[]): Options {
  return { entry, format: ['esm'], dts: true, clean: true, sourcemap: true, target: 'es2022', splitting: false };
}
