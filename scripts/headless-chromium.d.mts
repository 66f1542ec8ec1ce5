// Types of headless-chromium.mjs, for the TypeScript files that import it (vitest.config.ts).
import type { BrowserContext, Page } from 'playwright-core';

/** Debian's Chromium. */
export const CHROMIUM: string;
/** The flags every headless Chromium of the repository runs with. */
export const CHROMIUM_ARGS: string[];
/** A fresh profile directory (prefix `prefix`), removed when this process exits. */
export function profileRemovedAtExit(prefix: string): string;
/** Launches Chromium with a fresh profile; `close()` also removes the profile directory. */
export function launchChromium(options?: { executablePath?: string; profilePrefix?: string }): Promise<{
  context: BrowserContext;
  page: Page;
  profile: string;
  close(): Promise<void>;
}>;
