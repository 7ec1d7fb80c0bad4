/** Debian's Chromium through playwright-core, headless, with networking quiet (toolchain.md). */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = resolve(import.meta.dirname, '../artifacts');

export async function launchBrowser(): Promise<Browser> {
  // playwright gives every launch a fresh, empty profile of its own (no --user-data-dir needed).
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function newPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; pageErrors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  return { context, page, pageErrors };
}

/** Save a screenshot under test/artifacts/<group>/<name>.png (kept as a CI artifact). */
export async function shot(page: Page, group: string, name: string): Promise<void> {
  const dir = join(ARTIFACTS, group);
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/**
 * What the browser's address bar shows. After a failed navigation `page.url()` is Chromium's
 * error page (chrome-error://chromewebdata/), while the address bar keeps the address that failed:
 * that is what the admin copies. The tab's navigation history holds it.
 */
export async function addressBar(context: BrowserContext, page: Page): Promise<string> {
  const cdp = await context.newCDPSession(page);
  try {
    const { currentIndex, entries } = await cdp.send('Page.getNavigationHistory');
    return entries[currentIndex]?.url ?? '';
  } finally {
    await cdp.detach();
  }
}
