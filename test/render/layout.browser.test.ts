/**
 * The rendered issue in a real browser: no sideways scrolling at phone and desktop
 * widths, a dark theme that actually applies, and a footer that keeps its links.
 * Chromium is required; a machine without it fails this test rather than skipping it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, requireBrowser, SCREENSHOTS } from '../helpers/browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { PLACEHOLDERS } from '../../src/render/placeholders.ts';
import { renderPostFile } from '../../src/render/render-post-file.ts';

const POSTS = [
  { name: 'seed', file: resolve('emails/posts/sofa-weekly-2019-11-01.md') },
  { name: 'wide content', file: resolve('test/fixtures/posts/wide-content.md') },
];

interface View {
  width: number;
  dark: boolean;
}
const VIEWS: View[] = [
  { width: 320, dark: false },
  { width: 375, dark: false },
  { width: 600, dark: false },
  { width: 375, dark: true },
];

interface Overflow {
  element: string;
  left: number;
  right: number;
  text: string;
}
interface LayoutReport {
  scrollWidth: number;
  clientWidth: number;
  overflowing: Overflow[];
  scrollBoxes: number;
}

/**
 * Runs in the page. An element may extend past the viewport only inside a box the
 * layout made scrollable (div.nl-table, pre); that box itself must fit.
 */
function measureLayout(): LayoutReport {
  const root = document.documentElement;
  const limit = root.clientWidth + 0.5;
  const scrolls = (el: Element) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const insideScrollBox = (el: Element) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) if (scrolls(up)) return true;
    return false;
  };
  const nameOf = (el: Element) =>
    el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '') + (el.getAttribute('class') ? `.${el.getAttribute('class')!.trim().split(/\s+/).join('.')}` : '');
  const overflowing: Overflow[] = [];
  let scrollBoxes = 0;
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (scrolls(el)) scrollBoxes += 1;
    if ((box.right > limit || box.left < -0.5) && !insideScrollBox(el)) {
      overflowing.push({ element: nameOf(el), left: Math.round(box.left), right: Math.round(box.right), text: (el.textContent ?? '').trim().slice(0, 60) });
    }
  }
  return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, overflowing: overflowing.slice(0, 10), scrollBoxes };
}

let browser: Browser | undefined;
let workDir: string;
const htmlFiles = new Map<string, string>();

beforeAll(async () => {
  // Without Chromium every test below fails with this reason (a thrown beforeAll would report them as skipped).
  browser = await launchChromium();
  workDir = await mkdtemp(join(tmpdir(), 'nl-layout-'));
  const { identity } = loadConfig({ env: {} });
  for (const post of POSTS) {
    const issue = await renderPostFile(post.file, { identity });
    const file = join(workDir, `${issue.slug}.html`);
    await writeFile(file, issue.html);
    htmlFiles.set(post.name, file);
  }
});

afterAll(async () => {
  await browser?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Opens the issue offline: remote images fail to load, which is how many readers see them anyway. */
async function openIssue(postName: string, view: View): Promise<Page> {
  const context = await requireBrowser(browser, 'the layout test needs a real browser').newContext({
    viewport: { width: view.width, height: 800 },
    colorScheme: view.dark ? 'dark' : 'light',
  });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    return url.startsWith('file:') || url.startsWith('data:') ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  await page.goto(pathToFileURL(htmlFiles.get(postName)!).href, { waitUntil: 'load' });
  return page;
}

const slugOf = (file: string) => file.replace(/^.*\//, '').replace(/\.md$/, '');
const viewName = (view: View) => `${view.width}${view.dark ? '-dark' : ''}`;

describe.each(POSTS)('the $name post in Chromium', (post) => {
  for (const view of VIEWS) {
    it(`fits a ${viewName(view)} px viewport without sideways scrolling`, async () => {
      const page = await openIssue(post.name, view);
      try {
        await page.screenshot({ path: join(SCREENSHOTS, `${slugOf(post.file)}-${viewName(view)}.png`), fullPage: true });
        const report = await page.evaluate(measureLayout);
        expect(report.clientWidth).toBe(view.width);
        expect(report.overflowing, `elements wider than ${view.width}px`).toEqual([]);
        expect(report.scrollWidth).toBeLessThanOrEqual(report.clientWidth);
      } finally {
        await page.context().close();
      }
    });
  }

  it('declares light and dark support and changes the body text colour in dark mode', async () => {
    const page = await openIssue(post.name, { width: 375, dark: true });
    try {
      const meta = await page.locator('meta[name="color-scheme"]').getAttribute('content');
      expect(meta).toMatch(/\blight\b/);
      expect(meta).toMatch(/\bdark\b/);
      const textColour = () => page.evaluate(() => getComputedStyle(document.querySelector('.nl-body p')!).color);
      const background = () => page.evaluate(() => getComputedStyle(document.querySelector('.nl-card td, .nl-card')!).backgroundColor);
      const dark = { text: await textColour(), background: await background() };
      await page.emulateMedia({ colorScheme: 'light' });
      const light = { text: await textColour(), background: await background() };
      expect(dark.text).not.toBe(light.text);
      expect(dark.background).not.toBe(light.background);
      expect(luminance(dark.text)).toBeGreaterThan(luminance(dark.background));
      expect(luminance(light.text)).toBeLessThan(luminance(light.background));
    } finally {
      await page.context().close();
    }
  });

  it('shows the view-in-browser and unsubscribe links in the footer', async () => {
    const page = await openIssue(post.name, { width: 320, dark: false });
    try {
      for (const href of [PLACEHOLDERS.viewInBrowserUrl, PLACEHOLDERS.unsubscribeUrl]) {
        const link = page.locator(`.nl-foot a[href="${href}"]`);
        await expect(link.count()).resolves.toBe(1);
        const box = await link.boundingBox();
        expect(box, `${href} is laid out`).not.toBeNull();
        expect(box!.width).toBeGreaterThan(0);
        expect(box!.x + box!.width).toBeLessThanOrEqual(320);
        expect((await link.innerText()).trim()).not.toBe('');
      }
    } finally {
      await page.context().close();
    }
  });
});

describe('the wide-content fixture', () => {
  it('keeps its wide table inside a scrollable wrapper', async () => {
    const page = await openIssue('wide content', { width: 320, dark: false });
    try {
      const wrapper = page.locator('.nl-body div.nl-table');
      await expect(wrapper.count()).resolves.toBe(1);
      expect(await wrapper.evaluate((el) => getComputedStyle(el).overflowX)).toBe('auto');
      expect(await wrapper.locator('th').count()).toBe(6);
      const box = await wrapper.boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(320);
    } finally {
      await page.context().close();
    }
  });
});

/** Relative luminance of a computed `rgb(...)`/`rgba(...)` colour, enough to tell light from dark. */
function luminance(colour: string): number {
  const [r, g, b] = (colour.match(/[\d.]+/g) ?? []).map(Number);
  if (r === undefined || g === undefined || b === undefined) throw new Error(`not an rgb colour: ${colour}`);
  const channel = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}
