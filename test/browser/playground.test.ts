/**
 * The offline GraphiQL playground at GET /graphql, driven in headless Debian Chromium with
 * every host but 127.0.0.1 blocked.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import type { Locator, Page } from 'playwright-core';
import { playgroundAssets, playgroundAssetsDir } from '../../src/server/playground.js';
import { openSealedChromium, type SealedBrowser } from '../support/chromium.js';
import { startPlaygroundServer, type PlaygroundServer } from '../support/playground-server.js';

const TRICKY = '# </script><script>globalThis.__pwned = 1</script> <!-- & \u2028\nquery Tricky { hello }\n';

let opsDir: string;
let server: PlaygroundServer;
let browser: SealedBrowser;

beforeAll(async () => {
  const assets = playgroundAssetsDir();
  if (!existsSync(join(assets, 'main.js'))) {
    await promisify(execFile)(process.execPath, ['scripts/build-client.mjs'], { cwd: join(assets, '..', '..') });
  }
  opsDir = await mkdtemp(join(tmpdir(), 'bg-ops-'));
  await writeFile(join(opsDir, '01-hello.graphql'), 'query Hello {\n  hello\n}\n');
  await writeFile(join(opsDir, '02-countdown.graphql'), 'subscription Countdown($from: Int!) {\n  countdown(from: $from)\n}\n');
  await writeFile(join(opsDir, '02-countdown.variables.json'), '{"from":2}');
  await writeFile(join(opsDir, '03-tricky.graphql'), TRICKY);
  await writeFile(join(opsDir, 'README.md'), 'not an operation');
  server = await startPlaygroundServer(opsDir);
  browser = await openSealedChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (opsDir) await rm(opsDir, { recursive: true, force: true });
});

/** Contents of the Monaco model whose URI ends with `suffix` (operation.graphql, variables.json, response.json). */
function model(page: Page, suffix: string): Promise<string | null> {
  return page.evaluate((s) => {
    const monaco = (globalThis as any).__MONACO;
    const m = monaco?.editor.getModels().find((x: any) => x.uri.toString().endsWith(s));
    return m ? (m.getValue() as string) : null;
  }, suffix);
}

async function waitForModel(page: Page, suffix: string, test: (v: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await model(page, suffix);
    if (last !== null && test(last)) return last;
    await page.waitForTimeout(50);
  }
  throw new Error(`${what}: ${suffix} never matched; last value: ${last}`);
}

/** Types into the operation editor; insertText avoids Monaco's bracket auto-closing. */
async function typeOperation(page: Page, text: string): Promise<void> {
  await page.click('.graphiql-query-editor .monaco-editor .view-lines');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

async function openPlayground(page: Page): Promise<void> {
  await page.goto(`${server.url}/graphql`);
  await page.waitForSelector('.graphiql-execute-button');
  await waitForModel(page, 'operation.graphql', (v) => v.length > 0, 'editor ready');
}

/** Waits until the element shows `text` (Monaco renders spaces as nbsp; hasText normalises them). */
function hasText(locator: Locator, text: string): Promise<void> {
  return locator.filter({ hasText: text }).first().waitFor({ timeout: 10_000 });
}

/** Data frames (`next`) and whether `complete` came, on the page's /graphql WebSocket. */
function watchSubscriptionFrames(page: Page): { next: unknown[]; complete: boolean } {
  const seen = { next: [] as unknown[], complete: false };
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      const msg = JSON.parse(String(payload)) as { type: string; payload?: unknown };
      if (msg.type === 'next') seen.next.push(msg.payload);
      if (msg.type === 'complete') seen.complete = true;
    }),
  );
  return seen;
}

describe('playground page over HTTP', () => {
  test('GET /graphql (text/html) embeds every *.graphql file, in order, with its variables, script-safe', async () => {
    const res = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/graphiql-assets/main.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/graphiql-assets/main.css">');
    expect(html).not.toContain('<script>globalThis.__pwned');
    expect(html.match(/<\/script>/g)).toHaveLength(2); // the data block and main.js only
    const json = /<script type="application\/json" id="bg-operations">(.*?)<\/script>/s.exec(html)?.[1];
    expect(JSON.parse(json!)).toEqual([
      { file: '01-hello.graphql', query: 'query Hello {\n  hello\n}\n' },
      {
        file: '02-countdown.graphql',
        query: 'subscription Countdown($from: Int!) {\n  countdown(from: $from)\n}\n',
        variables: '{\n  "from": 2\n}',
      },
      { file: '03-tricky.graphql', query: TRICKY },
    ]);
  });

  test('assets are gzip-compressed and revalidated by ETag, not immutable', async () => {
    const url = `${server.url}/graphiql-assets/main.js`;
    const res = await fetch(url, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control') ?? '').not.toMatch(/immutable/);
    const etag = res.headers.get('etag');
    expect(etag).toBeTruthy();
    expect((await res.text()).length).toBeGreaterThan(1_000_000);
    // node:http, because fetch() adds `cache-control: no-cache` to conditional requests.
    const status = await new Promise<number | undefined>((resolve, reject) =>
      get(url, { headers: { 'if-none-match': etag! } }, (r) => resolve(r.resume().statusCode)).on('error', reject),
    );
    expect(status).toBe(304);
  });

  test('without a built bundle, assets answer 503 telling to run npm run build:client', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'bg-nobundle-'));
    const app = express().use('/graphiql-assets', playgroundAssets(empty));
    const http = createServer(app);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/graphiql-assets/main.js`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build:client');
    } finally {
      await new Promise((r) => http.close(r));
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('playground in Chromium, offline', () => {
  test('example tabs, a query, a subscription over graphql-ws, and the Explorer', async () => {
    const { page } = browser;
    const frames = watchSubscriptionFrames(page);
    await openPlayground(page);

    // One tab per file, titled by GraphiQL from the operation name; the first one active.
    const titles = await page.locator('.graphiql-tab button[aria-controls="graphiql-session"]').allTextContents();
    expect(titles).toEqual(['Hello', 'Countdown', 'Tricky']);
    expect(await model(page, 'operation.graphql')).toBe('# 01-hello.graphql\nquery Hello {\n  hello\n}\n');
    expect(await page.evaluate(() => (globalThis as any).__pwned)).toBeUndefined();

    await page.click('.graphiql-execute-button');
    await waitForModel(page, 'response.json', (v) => v.includes('"hello": "world"'), 'example query');
    await hasText(page.locator('.graphiql-response'), 'world');

    // The example subscription runs with its embedded variables.
    await page.click('.graphiql-tab button:has-text("Countdown")');
    await waitForModel(page, 'variables.json', (v) => /"from": 2/.test(v), 'example variables');
    await page.click('.graphiql-execute-button');
    await waitForModel(page, 'response.json', (v) => v.includes('"countdown": 0'), 'example subscription');

    // Typed text run at once: the fetcher must re-parse and pick WebSocket, not stale HTTP.
    await typeOperation(page, '{ hello }');
    await page.click('.graphiql-execute-button');
    await waitForModel(page, 'response.json', (v) => v.includes('"hello": "world"'), 'typed query');
    await typeOperation(page, 'subscription { countdown(from: 3) }');
    await page.click('.graphiql-execute-button');
    await waitForModel(page, 'response.json', (v) => v.includes('"countdown": 0'), 'typed subscription');
    await hasText(page.locator('.graphiql-response'), '"countdown": 0');
    await page.waitForTimeout(200); // let `complete` arrive
    expect(frames.next).toEqual([2, 1, 0, 3, 2, 1, 0].map((n) => ({ data: { countdown: n } })));
    expect(frames.complete).toBe(true);

    await page.click('[aria-label="Show GraphiQL Explorer"]');
    const panel = page.locator('.graphiql-plugin');
    await hasText(panel, 'Explorer');
    await hasText(panel, 'countdown');

    expect(browser.blocked).toEqual([]);
    const paths = browser.served.map((u) => new URL(u).pathname);
    for (const f of ['main.js', 'main.css', 'editor.worker.js', 'json.worker.js', 'graphql.worker.js']) {
      expect(paths).toContain(`/graphiql-assets/${f}`);
    }
    expect(browser.problems).toEqual([]);
  }, 60_000);
});
