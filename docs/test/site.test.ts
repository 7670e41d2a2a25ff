// The built documentation site, opened in headless Chromium: pages render, navigation works,
// no internal link or anchor is broken, and the local search finds the API.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StaticSite, serveStatic } from './static-server.js';

const docs = fileURLToPath(new URL('..', import.meta.url));
const dist = join(docs, '.vitepress/dist');
const artifacts = join(docs, 'test/artifacts');
const CHROMIUM = '/usr/bin/chromium';
const INSTALL = 'apt-get update && apt-get install -y chromium';

let site: StaticSite;
let context: BrowserContext;
let page: Page;
let profile: string;
/** Requests the site tried to send off the loopback interface: it must be self-contained. */
const external: string[] = [];
/** Uncaught errors in any page, with the page they happened on. */
const pageErrors: string[] = [];

function builtPages(dir = dist): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'assets' ? [] : builtPages(path);
    return entry.name.endsWith('.html') && entry.name !== '404.html' ? [path] : [];
  });
}

/** The site path of a built file, as VitePress links to it: `/`, `/guide/concepts.html`, `/api/`. */
const pathOf = (file: string) =>
  `/${relative(dist, file).split('\\').join('/')}`.replace(/(^|\/)index\.html$/, '$1');

/** `/x/index.html` and `/x/` are one page; the hash is checked separately. */
function pagePath(url: URL): string {
  return url.pathname.replace(/(^|\/)index\.html$/, '$1');
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; the docs site test needs it. Install it with: ${INSTALL}`,
    );
  }
  if (!existsSync(join(dist, 'index.html'))) {
    // `npm test` builds the site first (turbo runs the docs `build`); build it here when run alone.
    const built = spawnSync('pnpm', ['run', 'build'], { cwd: docs, stdio: 'inherit' });
    if (built.status !== 0)
      throw new Error(`the docs build failed (exit ${built.status}); run: pnpm docs:build`);
  }
  site = await serveStatic(dist);
  profile = mkdtempSync(join(tmpdir(), 'oncelock-docs-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
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
    viewport: { width: 1280, height: 800 },
  });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:') return route.continue();
    external.push(url.href);
    return route.abort();
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
}, 300_000);

afterAll(async () => {
  await context?.close();
  await site?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
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
