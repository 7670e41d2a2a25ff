// The built documentation site, opened in headless Chromium: pages render, navigation works,
// no internal link or anchor is broken, and the local search finds the API.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowsedSite, browseSite, builtPages, docs, pathOf } from './browser.js';

const artifacts = join(docs, 'test/artifacts');

let browsed: BrowsedSite;
let site: BrowsedSite['site'];
let page: Page;
/** Requests the site tried to send off the loopback interface: it must be self-contained. */
const external: string[] = [];
/** Uncaught errors in any page, with the page they happened on. */
const pageErrors: string[] = [];

/** `/x/index.html` and `/x/` are one page; the hash is checked separately. */
function pagePath(url: URL): string {
  return url.pathname.replace(/(^|\/)index\.html$/, '$1');
}

beforeAll(async () => {
  browsed = await browseSite();
  ({ site, page } = browsed);
  await browsed.context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:') return route.continue();
    external.push(url.href);
    return route.abort();
  });
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
}, 300_000);

afterAll(async () => {
  await browsed?.close();
});

describe('documentation site', () => {
  it('renders the home page, and keeps a screenshot of it', async () => {
    const response = await page.goto(`${site.origin}/`);
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.locator('.VPHero .name').textContent()).toContain('oncelock');
    expect(await page.locator('.VPFeature').count()).toBeGreaterThanOrEqual(3);
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'home.png'), fullPage: true });
    expect(existsSync(join(artifacts, 'home.png'))).toBe(true);
  });

  it('navigates from the home page through the guide, the sidebar and back', async () => {
    await page.goto(`${site.origin}/`);
    await page.getByRole('link', { name: 'Get started' }).first().click();
    await page.waitForURL(/\/guide\/getting-started(\.html)?$/);
    await expect.poll(() => page.locator('main h1').first().textContent()).toContain('Getting started');

    await page.locator('.VPSidebar').getByRole('link', { name: 'Concepts' }).click();
    await page.waitForURL(/\/guide\/concepts(\.html)?$/);
    await expect.poll(() => page.locator('main h1').first().textContent()).toContain('Concepts');

    await page.locator('.VPNavBar').getByRole('link', { name: 'API' }).first().click();
    await page.waitForURL(/\/api\/(index\.html)?$/);
    await expect.poll(() => page.locator('main').textContent()).toContain('@oncelock/core');

    await page.goBack();
    await page.waitForURL(/\/guide\/concepts(\.html)?$/);
    await expect.poll(() => page.locator('main h1').first().textContent()).toContain('Concepts');
  });

  it('has no broken internal link or anchor, and every built page is reachable', async () => {
    const ids = new Map<string, Set<string>>();
    const anchors: Array<{ from: string; to: string; hash: string }> = [];
    const assets = new Set<string>();
    const broken: string[] = [];
    const queue = ['/'];
    const queued = new Set(queue);
    while (queue.length > 0) {
      const path = queue.shift()!;
      const response = await page.goto(`${site.origin}${path}`);
      if (response?.status() !== 200) {
        broken.push(`${path}: HTTP ${response?.status()}`);
        continue;
      }
      const found = await page.evaluate(() => ({
        h1: document.querySelector('main h1, .VPHero')?.textContent ?? '',
        links: [...document.querySelectorAll('a[href]')].map((a) => (a as HTMLAnchorElement).href),
        ids: [...document.querySelectorAll('[id]')].map((e) => e.id),
        images: [...document.images].map((i) => ({ src: i.src, ok: i.complete && i.naturalWidth > 0 })),
      }));
      if (found.h1.trim() === '') broken.push(`${path}: renders no heading`);
      for (const image of found.images)
        if (!image.ok) broken.push(`${path}: image ${image.src} did not load`);
      ids.set(path, new Set(found.ids));
      for (const href of found.links) {
        const url = new URL(href);
        if (url.origin !== site.origin) continue;
        const target = pagePath(url);
        if (!/\.html$|\/$/.test(target)) {
          assets.add(target); // a file, not a page: only its existence is checked
          continue;
        }
        if (url.hash.length > 1)
          anchors.push({ from: path, to: target, hash: decodeURIComponent(url.hash.slice(1)) });
        if (!queued.has(target)) {
          queued.add(target);
          queue.push(target);
        }
      }
    }
    for (const asset of assets) {
      const res = await fetch(`${site.origin}${asset}`);
      if (res.status !== 200) broken.push(`${asset}: HTTP ${res.status}`);
    }
    for (const { from, to, hash } of anchors) {
      if (ids.has(to) && !ids.get(to)!.has(hash))
        broken.push(`${from} links to ${to}#${hash}, which has no such anchor`);
    }
    expect(broken).toEqual([]);
    const unreachable = builtPages()
      .map(pathOf)
      .filter((p) => !ids.has(p));
    expect(unreachable).toEqual([]);
    expect(ids.size).toBeGreaterThan(20);
    expect(external).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 600_000);

  it('finds runOnceOrCancel with the local search and opens the result', async () => {
    await page.goto(`${site.origin}/`);
    await page.locator('button.DocSearch-Button').click();
    const input = page.locator('#localsearch-input');
    await input.fill('runOnceOrCancel');
    const results = page.locator('.VPLocalSearchBox .results .result');
    await expect.poll(() => results.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await results.first().textContent()).toMatch(/runOnceOrCancel/i);
    await input.press('Enter');
    await expect.poll(() => page.locator('main').textContent()).toContain('runOnceOrCancel');
    expect(new URL(page.url()).pathname).not.toBe('/');
  });
});
