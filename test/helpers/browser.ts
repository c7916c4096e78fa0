/**
 * Debian's Chromium for the tests that look at pages: headless, through playwright-core, with
 * nothing downloaded and no background traffic (this machine has no network, and Chromium's
 * connections out are refused). Screenshots go to test-output/ (git-ignored) to be looked at.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = resolve('test-output/screenshots');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

/** The browser, or undefined when Chromium is not installed: requireBrowser then fails the test that needs it, saying how to get one. */
export async function launchChromium(): Promise<Browser | undefined> {
  await mkdir(SCREENSHOTS, { recursive: true });
  return existsSync(CHROMIUM) ? chromium.launch({ executablePath: CHROMIUM, args: ARGS }) : undefined;
}

export function requireBrowser(browser: Browser | undefined, why: string): Browser {
  if (!browser) throw new Error(`Chromium not found at ${CHROMIUM}: ${why} (apt-get install chromium)`);
  return browser;
}
