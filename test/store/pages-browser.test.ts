/**
 * The store's pages in a real browser: Chromium (Debian's, which .ci/run installs) driven by
 * playwright-core, against a real store with a real chain uploaded. It asserts on what a person sees,
 * with JavaScript off (the pages need none), and keeps a screenshot of each page in test-artifacts/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startEvidenceStore, type RunningEvidenceStore } from '../../src/store/server.js';
import { pageChain, type PageChain } from './chain-fixtures.js';
import { call, tokenDir } from './server-fixtures.js';

const CHROMIUM = process.env.EVIDENT_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
const TOKEN = 'browser-test-token';

/** The one browser API the assertions call inside the page (the tests are compiled without the DOM's types). */
interface BrowserWindow {
  getComputedStyle(element: unknown): { color: string };
}

describe(
  'evidence store pages in Chromium',
  { skip: existsSync(CHROMIUM) ? false : `SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium)` },
  () => {
    let store: RunningEvidenceStore;
    let browser: Browser;
    let page: Page;
    let chain: PageChain;
    let dir: string;
    const consoleErrors: string[] = [];

    before(async () => {
      const t = tokenDir([TOKEN]);
      dir = t.dir;
      chain = pageChain(dir);
      store = await startEvidenceStore({
        dataDir: dir,
        tokenFile: t.tokenFile,
        layout: chain.layoutFile,
        layoutKeys: [chain.ownerKeyFile],
      });
      for (const body of [...chain.honest, ...chain.tampered])
        assert.ok((await call(store.url, '/v1/evidence', { body, token: TOKEN })).status < 300);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1400, height: 1000 } });
      page = await context.newPage();
      page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
      mkdirSync(SCREENSHOTS, { recursive: true });
    });
    after(async () => {
      await browser?.close();
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('searching the packaged file by name, then opening the honest one, shows a passed chain of three signed steps', async () => {
      await page.goto(store.url);
      await page.getByRole('searchbox').fill('app.tar.gz');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('link', { name: chain.honestProduct.slice(0, 19) }).click();
      assert.equal(new URL(page.url()).pathname, `/artifacts/${chain.honestProduct}`);
      assert.match(await page.locator('#verdict').innerText(), /^PASSED: the supply chain of this artifact followed layout root\.layout/);
      const boxes = page.locator('svg.chain g.node');
      assert.equal(await boxes.count(), 4); // code, build, package, and the artifact
      assert.equal(await page.locator('svg.chain g.node.passed').count(), 4);
      assert.ok(await page.locator('svg.chain').isVisible());
      assert.ok((await page.locator('svg.chain').boundingBox())!.width > 600, 'the graph is laid out left to right');
      assert.equal(await page.locator('section.step.passed').count(), 3);
      await page.screenshot({ path: join(SCREENSHOTS, 'store-page-honest.png'), fullPage: true });
    });

    it('the tampered chain: FAILED in red, the build box and section red, the failing rule marked, the way there a click', async () => {
      await page.goto(`${store.url}/search?q=${chain.tamperedProduct}`);
      assert.equal(new URL(page.url()).pathname, `/artifacts/${chain.tamperedProduct}`);
      const verdict = page.locator('#verdict');
      assert.match(await verdict.innerText(), /^FAILED against layout root\.layout: step build: /);
      assert.equal(await verdict.evaluate((e) => (globalThis as unknown as BrowserWindow).getComputedStyle(e).color), 'rgb(207, 34, 46)');
      assert.equal(await page.locator('svg.chain g.node.failed[data-step="build"]').count(), 1);
      const rule = page.locator('section[data-step="build"] li.failing-rule');
      assert.equal(await rule.innerText(), 'DISALLOW * ← failed');
      await page.locator('svg.chain g.node[data-step="build"]').click();
      assert.match(page.url(), /#link-build\.[0-9a-f]{8}\.link$/);
      await page.locator('section[data-step="build"] summary', { hasText: 'materials' }).click();
      assert.ok(await page.locator('section[data-step="build"] details code', { hasText: 'evil.patch' }).isVisible());
      await page.screenshot({ path: join(SCREENSHOTS, 'store-page-tampered.png'), fullPage: true });
    });

    it("each link's content is readable from its step", async () => {
      await page.goto(`${store.url}/artifacts/${chain.honestProduct}`);
      await page.locator('section[data-step="code"] a', { hasText: /^code\..*\.link$/ }).click();
      assert.match(await page.locator('h1').innerText(), /^link of step code/);
      assert.match(await page.locator('pre').innerText(), /"_type": "link"/);
    });

    it('nothing on the pages was blocked or failed to load', () => {
      assert.deepEqual(consoleErrors, []);
    });
  },
);
