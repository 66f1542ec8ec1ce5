// Headless Chromium for the repository's browser scripts (the browser bench, the browser
// example's test), through playwright-core and Debian's /usr/bin/chromium.
//
// Owns: the flags Chromium runs with here, and a fresh profile directory per launch that
// is removed again on close, so no run sees another's state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';
// No sandbox (containers run as root), and nothing that reaches the network by itself.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A fresh profile directory for a Chromium that someone else launches and closes (vitest's
 * browser provider): removed when this process exits, so runs leave nothing in the temp
 * directory.
 */
export function profileRemovedAtExit(prefix) {
  const profile = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(profile, { recursive: true, force: true }));
  return profile;
}

/**
 * Launches Chromium with a fresh profile; resolves with `{ context, page, profile,
 * close() }`, where `close()` also removes the profile directory.
 */
export async function launchChromium({ executablePath = CHROMIUM, profilePrefix = 'aio-headless-chromium-' } = {}) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), profilePrefix));
  const removeProfile = () => rmSync(profile, { recursive: true, force: true });
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_ARGS });
  } catch (err) {
    removeProfile();
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    profile,
    close: async () => {
      await context.close().catch(() => {});
      removeProfile();
    },
  };
}
