// The built documentation site served on loopback and opened in headless Chromium, shared by
// the browser tests. The site is built first when it is missing, so a test file runs alone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { type StaticSite, serveStatic } from './static-server.js';

export const docs = fileURLToPath(new URL('..', import.meta.url));
export const dist = join(docs, '.vitepress/dist');
const CHROMIUM = '/usr/bin/chromium';
const INSTALL = 'apt-get update && apt-get install -y chromium';

export interface BrowsedSite {
  readonly site: StaticSite;
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/** Every built page's file, without the 404 page. */
export function builtPages(dir = dist): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'assets' ? [] : builtPages(path);
    return entry.name.endsWith('.html') && entry.name !== '404.html' ? [path] : [];
  });
}

/** The site path of a built file, as VitePress links to it: `/`, `/guide/concepts.html`, `/api/`. */
export const pathOf = (file: string) =>
  `/${relative(dist, file).split('\\').join('/')}`.replace(/(^|\/)index\.html$/, '$1');

export async function browseSite(viewport = { width: 1280, height: 800 }): Promise<BrowsedSite> {
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
  const site = await serveStatic(dist);
  const profile = mkdtempSync(join(tmpdir(), 'oncelock-docs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
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
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    site,
    context,
    page,
    async close() {
      await context.close();
      await site.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
