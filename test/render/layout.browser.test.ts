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
  { name: 'narrow screen', file: resolve('test/fixtures/posts/narrow-screen.md') },
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

interface CellLines {
  text: string;
  lines: number;
  width: number;
}

/** Runs in the page: the lines each cell of the first table takes, and its content width. */
function cellsOfFirstTable(): CellLines[] {
  const lineTops = (el: Element) => {
    const tops = new Set<number>();
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < (node.textContent ?? '').length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (rect && rect.width > 0) tops.add(Math.round(rect.top));
      }
    }
    return tops.size;
  };
  const table = document.querySelector('.nl-body .nl-table table')!;
  return [...table.querySelectorAll('th, td')].map((cell) => {
    const style = getComputedStyle(cell);
    const width = cell.getBoundingClientRect().width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return { text: (cell.textContent ?? '').trim(), lines: lineTops(cell), width };
  });
}

interface WrapReport {
  width: number;
  /** Where a line was wrapped between two letters of a word that would have fitted on a line: `scrip|t`. */
  midWord: string[];
  wraps: number;
}

/** Runs in the page: every place the first code block wraps a source line, and whether it wrapped at a space. */
function wrapsOfFirstCodeBlock(): WrapReport {
  const pre = document.querySelector('.nl-body pre')!;
  const style = getComputedStyle(pre);
  const width = pre.getBoundingClientRect().width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const chars: { c: string; top: number; left: number; right: number }[] = [];
  const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < (node.textContent ?? '').length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      chars.push({ c: node.textContent![i]!, top: rect ? Math.round(rect.top) : NaN, left: rect?.left ?? NaN, right: rect?.right ?? NaN });
    }
  }
  const text = chars.map((ch) => ch.c).join('');
  const midWord: string[] = [];
  let wraps = 0;
  let previous: (typeof chars)[number] | undefined;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (Number.isNaN(ch.top) || ch.c === '\n') continue;
    if (previous && ch.top > previous.top && text[i - 1] !== '\n') {
      wraps += 1;
      // Between two letters or digits is mid-word (a break after a hyphen or slash is the browser's
      // ordinary line breaking). A token longer than a line has to break somewhere, though.
      if (/[\p{L}\p{N}_]/u.test(text[i - 1]!) && /[\p{L}\p{N}_]/u.test(ch.c)) {
        let start = i;
        while (start > 0 && !/\s/.test(text[start - 1]!)) start -= 1;
        let end = i;
        while (end < text.length && !/\s/.test(text[end]!)) end += 1;
        const tokenWidth = [...chars.slice(start, end)].reduce((sum, c) => sum + (c.right - c.left || 0), 0);
        if (tokenWidth <= width) midWord.push(`${text.slice(start, i)}|${text.slice(i, end)}`);
      }
    }
    previous = ch;
  }
  return { width, midWord, wraps };
}

describe('the narrow-screen fixture', () => {
  for (const view of [
    { width: 375, dark: false },
    { width: 375, dark: true },
    { width: 320, dark: false },
  ]) {
    it(`keeps short Chinese words in table cells whole at ${viewName(view)} px`, async () => {
      const page = await openIssue('narrow screen', view);
      try {
        const cells = await page.evaluate(cellsOfFirstTable);
        const shortWords = cells.filter((cell) => /^[\u3400-\u9fff]{2,4}$/.test(cell.text));
        expect(shortWords.map((cell) => cell.text)).toEqual(expect.arrayContaining(['时间', '嘉宾', '林晓峰', '欧阳静怡']));
        expect(shortWords.filter((cell) => cell.lines !== 1)).toEqual([]);
        // No cell narrower than two characters of its 14 px text.
        expect(cells.filter((cell) => cell.width < 28)).toEqual([]);
      } finally {
        await page.context().close();
      }
    });

    it(`wraps code at spaces, breaking only a token longer than the line, at ${viewName(view)} px`, async () => {
      const page = await openIssue('narrow screen', view);
      try {
        const report = await page.evaluate(wrapsOfFirstCodeBlock);
        expect(report.wraps, 'the code is wider than the screen').toBeGreaterThan(3);
        expect(report.midWord).toEqual([]);
      } finally {
        await page.context().close();
      }
    });
  }

  it('draws link underlines below the text, where they cannot hide an underscore', async () => {
    const page = await openIssue('narrow screen', { width: 375, dark: false });
    try {
      const links = page.locator('.nl-body a:has(code)');
      expect(await links.count()).toBeGreaterThanOrEqual(2);
      for (const link of [links.first(), page.locator('.nl-body a', { hasText: 'snake_case_names_everywhere' })]) {
        const offset = await link.evaluate((el) => {
          const style = getComputedStyle(el);
          return { offset: style.textUnderlineOffset, fontSize: parseFloat(style.fontSize), line: style.textDecorationLine };
        });
        expect(offset.line).toContain('underline');
        expect(offset.offset).toMatch(/px$/);
        // An underscore reaches about 0.15em below the baseline.
        expect(parseFloat(offset.offset)).toBeGreaterThanOrEqual(0.2 * offset.fontSize);
      }
    } finally {
      await page.context().close();
    }
  });

  for (const dark of [false, true]) {
    it(`shows that a wide table scrolls, with a shadow on the side that has more${dark ? ', in dark mode' : ''}`, async () => {
      const page = await openIssue('narrow screen', { width: 320, dark });
      try {
        const wrapper = page.locator('.nl-body div.nl-table').last();
        const sizes = await wrapper.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
        expect(sizes.scroll).toBeGreaterThan(sizes.client + 50);
        // Only the backgrounds are left to see: no text or borders.
        await page.addStyleTag({ content: '.nl-table th, .nl-table td { color: transparent !important; border-color: transparent !important; }' });
        const atStart = await edgeShades(page, wrapper);
        await wrapper.evaluate((el) => (el.scrollLeft = el.scrollWidth));
        const atEnd = await edgeShades(page, wrapper);
        // Light: the shadow is darker than the card; dark: it is lighter. Both differ from the middle.
        const contrast = (edge: number, middle: number) => Math.abs(edge - middle);
        expect(contrast(atStart.right, atStart.middle), 'shadow at the right edge before scrolling').toBeGreaterThan(12);
        expect(contrast(atStart.left, atStart.middle), 'no shadow at the left edge before scrolling').toBeLessThan(3);
        expect(contrast(atEnd.left, atEnd.middle), 'shadow at the left edge after scrolling to the end').toBeGreaterThan(12);
        expect(contrast(atEnd.right, atEnd.middle), 'no shadow at the right edge at the end').toBeLessThan(3);
      } finally {
        await page.context().close();
      }
    });
  }
});

/**
 * Mean grey level (0-255) of the 4 px at each side of a table's wrapper and of its middle, from a
 * screenshot of its body rows (the header row has a background of its own, the scroll bar is no content).
 */
async function edgeShades(page: Page, wrapper: ReturnType<Page['locator']>): Promise<{ left: number; middle: number; right: number }> {
  await wrapper.scrollIntoViewIfNeeded();
  const box = (await wrapper.boundingBox())!;
  const rows = await wrapper.evaluate((el) => ({
    top: el.querySelector('thead')!.getBoundingClientRect().bottom,
    bottom: el.querySelector('tbody')!.getBoundingClientRect().bottom,
  }));
  const clip = { x: box.x, y: rows.top + 1, width: box.width, height: rows.bottom - rows.top - 2 };
  const png = (await page.screenshot({ clip })).toString('base64');
  return page.evaluate(async (data) => {
    const image = new Image();
    await new Promise((done) => {
      image.onload = done;
      image.src = `data:image/png;base64,${data}`;
    });
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d')!;
    context.drawImage(image, 0, 0);
    const mean = (x: number) => {
      const { data: pixels } = context.getImageData(x, 0, 4, image.height);
      let sum = 0;
      for (let i = 0; i < pixels.length; i += 4) sum += 0.3 * pixels[i]! + 0.59 * pixels[i + 1]! + 0.11 * pixels[i + 2]!;
      return sum / (pixels.length / 4);
    };
    return { left: mean(0), middle: mean(Math.floor(image.width / 2) - 2), right: mean(image.width - 4) };
  }, png);
}

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
