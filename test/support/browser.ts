// Launches Debian's headless Chromium through playwright-core for tests that need a real browser.

import { accessSync, constants } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these Chromium phones home at start-up, and this machine's closed network refuses its connections.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export class BrowserMissingError extends Error {
  readonly code = 'BROWSER_MISSING';
  constructor(options?: ErrorOptions) {
    super(
      `Chromium is not installed at ${CHROMIUM_PATH}; browser tests need it and fail rather than skip. ` +
        "Install Debian's chromium package: sudo apt-get install -y chromium (CI installs it).",
      options,
    );
    this.name = 'BrowserMissingError';
  }
}

/** Starts headless Chromium; throws BrowserMissingError, never skips, when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch (error) {
    throw new BrowserMissingError({ cause: error });
  }
  // Chromium refuses to run its sandbox as root (containers, CI); elsewhere keep it on.
  const sandbox = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...sandbox, ...CHROMIUM_ARGS] });
}
