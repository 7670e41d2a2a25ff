// Every built page at a desktop and a phone width, in real Chromium: no code block, table or
// image spills out of the text column or hides its right side, every image loads, no text in
// an SVG picture is cut at its edges, and pictures are not white boxes in dark mode.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowsedSite, browseSite, builtPages, pathOf } from './browser.js';

let browsed: BrowsedSite;
let page: Page;
/** Every built page; a site this size has more than 20, so an empty or half-built one fails. */
function pages(): string[] {
  const all = builtPages().map(pathOf).sort();
  expect(all.length).toBeGreaterThan(20);
  return all;
}

beforeAll(async () => {
  browsed = await browseSite();
  page = browsed.page;
}, 300_000);

afterAll(async () => {
  await browsed?.close();
});

/** Whether the page is rendered for a wide screen, where a code block or table must fit as is. */
async function problems(wide: boolean): Promise<string[]> {
  return page.evaluate(async (wide) => {
    const found: string[] = [];
    const name = (e: Element) =>
      e.tagName === 'IMG'
        ? `image ${(e as HTMLImageElement).src.replace(location.origin, '')}`
        : e.tagName === 'TABLE'
          ? `table "${e.textContent?.trim().slice(0, 40)}"`
          : e.tagName === 'svg'
            ? 'inline SVG'
            : `code block "${e.textContent?.trim().slice(0, 40)}"`;
    const blocks = [
      ...document.querySelectorAll('.vp-doc div[class*="language-"], .vp-doc table, main img, .VPHome img'),
      ...[...document.querySelectorAll('.vp-doc svg')].filter((s) => !s.parentElement?.closest('svg')),
    ];
    // Below 640 px VitePress lets code blocks run to the screen's edges; otherwise a block keeps
    // to the text column it sits in.
    const bleed = window.innerWidth < 640;
    for (const block of blocks) {
      const box = block.getBoundingClientRect();
      if (box.width === 0) continue; // an unselected tab of a code group
      const column = (block.closest('.vp-doc') ?? block.closest('main, .VPHome'))!.getBoundingClientRect();
      const [left, right] = bleed ? [0, window.innerWidth] : [column.left, column.right];
      if (box.left < left - 1 || box.right > right + 1)
        found.push(`${name(block)} overflows its column (${box.left}..${box.right} in ${left}..${right})`);
      // The element that scrolls: a code block's <pre> or the block itself.
      for (const scroller of [block, ...block.querySelectorAll('pre')]) {
        if (scroller.scrollWidth <= scroller.clientWidth + 1) continue;
        const overflowX = getComputedStyle(scroller).overflowX;
        if (wide || !/auto|scroll/.test(overflowX))
          found.push(
            `${name(block)} is ${scroller.scrollWidth - scroller.clientWidth} px wider than it shows (overflow-x: ${overflowX})`,
          );
        break;
      }
      if (block instanceof HTMLImageElement) {
        if (!block.complete) await block.decode().catch(() => undefined);
        if (block.naturalWidth === 0) found.push(`${name(block)} did not load`);
      }
    }
    // Text inside an SVG picture that runs past the picture's edges is cut off where it is shown.
    const svgs = [
      ...document.querySelectorAll<HTMLImageElement>('main img[src$=".svg"], .VPHome img[src$=".svg"]'),
    ];
    for (const img of svgs) {
      const source = await (await fetch(img.src)).text();
      const holder = document.createElement('div');
      holder.style.cssText = 'position:absolute;left:-10000px;top:0';
      holder.innerHTML = source;
      document.body.append(holder);
      const svg = holder.querySelector('svg')!;
      const view = svg.viewBox.baseVal;
      const [width, height] = view?.width
        ? [view.width, view.height]
        : [svg.width.baseVal.value, svg.height.baseVal.value];
      for (const text of svg.querySelectorAll('text')) {
        const b = text.getBBox();
        if (
          b.width > 0 &&
          (b.x < -0.5 || b.y < -0.5 || b.x + b.width > width + 0.5 || b.y + b.height > height + 0.5)
        )
          found.push(`${name(img)}: its text "${text.textContent}" runs past the picture's edge`);
      }
      holder.remove();
    }
    return found;
  }, wide);
}

describe('documentation layout', () => {
  for (const width of [1400, 390]) {
    it(`at ${width} px, keeps every code block, table and image inside its column, and loads every image`, async () => {
      await page.setViewportSize({ width, height: 900 });
      const found: string[] = [];
      for (const path of pages()) {
        await page.goto(`${browsed.site.origin}${path}`, { waitUntil: 'load' });
        for (const problem of await problems(width >= 1024)) found.push(`${path}: ${problem}`);
      }
      expect(found).toEqual([]);
    }, 600_000);
  }

  it('shows no picture as a light box on the dark theme', async () => {
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.emulateMedia({ colorScheme: 'dark' });
    const light: string[] = [];
    let seen = 0;
    for (const path of pages()) {
      await page.goto(`${browsed.site.origin}${path}`, { waitUntil: 'load' });
      expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(true);
      for (const image of await page.locator('main img, .VPHome img').all()) {
        if (!(await image.isVisible())) continue;
        seen++;
        const png = (await image.screenshot()).toString('base64');
        // The mean brightness of the picture as shown, 0 (black) to 1 (white).
        const brightness = await page.evaluate(async (png) => {
          const bitmap = await createImageBitmap(await (await fetch(`data:image/png;base64,${png}`)).blob());
          const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
          const context = canvas.getContext('2d')!;
          context.drawImage(bitmap, 0, 0);
          const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
          let sum = 0;
          for (let i = 0; i < data.length; i += 4) sum += (data[i]! + data[i + 1]! + data[i + 2]!) / 765;
          return sum / (data.length / 4);
        }, png);
        if (brightness > 0.5)
          light.push(`${path}: ${await image.getAttribute('src')} (brightness ${brightness.toFixed(2)})`);
      }
    }
    expect(seen).toBeGreaterThan(0);
    expect(light).toEqual([]);
    await page.emulateMedia({ colorScheme: 'light' });
  }, 600_000);
});
