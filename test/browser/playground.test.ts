/**
 * The offline GraphiQL playground at GET /graphql of a real gateway, driven in headless Debian
 * Chromium with every host but 127.0.0.1 blocked.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import { Kind, parse } from 'graphql';
import { ApiKeys } from '../../src/auth/api-keys.js';
import { packageRoot } from '../../src/server/package-root.js';
import {
  loadExampleOperations,
  playgroundAssets,
  playgroundAssetsDir,
  playgroundHtml,
  type ExampleOperation,
} from '../../src/server/playground.js';
import { openSealedChromium, type SealedBrowser } from '../support/chromium.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { hasText, model, TAB_BUTTONS, typeOperation, waitForModel, watchWebSocket } from '../support/graphiql.js';

const OPERATIONS_DIR = join(packageRoot(), 'schema', 'operations');
/** A real API key (viewer), so the forwarded token must also authenticate. */
let TOKEN = '';

let gw: TestGateway;
let browser: SealedBrowser;

beforeAll(async () => {
  if (!existsSync(join(playgroundAssetsDir(), 'main.js'))) {
    await promisify(execFile)(process.execPath, ['scripts/build-client.mjs'], { cwd: packageRoot() });
  }
  gw = await startGateway();
  TOKEN = (await new ApiKeys(gw.server.store).create({ role: 'viewer', name: 'playground-test' })).key;
  browser = await openSealedChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

/** The embedded operations of a playground page. */
function embedded(html: string): ExampleOperation[] {
  const json = /<script type="application\/json" id="bg-operations">(.*?)<\/script>/s.exec(html)?.[1];
  if (json === undefined) throw new Error('no bg-operations block in the page');
  return JSON.parse(json) as ExampleOperation[];
}

describe('playground page and assets', () => {
  test('GET /graphql (text/html) embeds every schema/operations/*.graphql, in order, with its variables', async () => {
    const res = await fetch(gw.url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/graphiql-assets/main.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/graphiql-assets/main.css">');
    const ops = embedded(html);
    const files = readdirSync(OPERATIONS_DIR).filter((f) => f.endsWith('.graphql')).sort();
    expect(files.length).toBeGreaterThan(0);
    expect(ops.map((o) => o.file)).toEqual(files);
    for (const op of ops) {
      expect(op.query.trimEnd()).toBe(readFileSync(join(OPERATIONS_DIR, op.file), 'utf8').trimEnd());
      const vars = join(OPERATIONS_DIR, op.file.replace(/\.graphql$/, '.variables.json'));
      if (existsSync(vars)) expect(JSON.parse(op.variables!)).toEqual(JSON.parse(readFileSync(vars, 'utf8')));
      else expect(op.variables).toBeUndefined();
    }
  });

  test('operation text cannot break out of the page: </script>, <!--, U+2028 stay inside the JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bg-ops-'));
    try {
      const tricky = '# </script><script>alert(1)</script> <!-- & \u2028 "quoted"\nquery Tricky { __typename }\n';
      await writeFile(join(dir, 'tricky.graphql'), tricky);
      await writeFile(join(dir, 'tricky.variables.json'), '{"x":"</script>"}');
      await writeFile(join(dir, 'notes.md'), 'not an operation');
      const ops = await loadExampleOperations(dir);
      const html = playgroundHtml('<b>t</b>', ops, true);
      expect(html).not.toContain('<script>alert');
      expect(html).not.toContain('<!--');
      expect(html).toContain('<title>&#60;b&#62;t&#60;/b&#62;</title>');
      expect(html.match(/<\/script>/g)).toHaveLength(2); // the data block and main.js only
      expect(embedded(html)).toEqual([{ file: 'tricky.graphql', query: tricky, variables: '{\n  "x": "</script>"\n}' }]);

      await writeFile(join(dir, 'tricky.variables.json'), '{ not json');
      await expect(loadExampleOperations(dir)).rejects.toThrow(/tricky\.variables\.json is not valid JSON/);
      await expect(loadExampleOperations(join(dir, 'absent'))).rejects.toThrow(/cannot read operations folder/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('assets are compressed and revalidated by ETag, not immutable', async () => {
    const url = new URL('/graphiql-assets/main.js', gw.url).toString();
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

  test('without a built bundle, assets answer 503 and the page says to run npm run build:client', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'bg-nobundle-'));
    const http = createServer(express().use('/graphiql-assets', playgroundAssets(empty)));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/graphiql-assets/main.js`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build:client');
      const page = playgroundHtml('buildgate', [], false);
      expect(page).toContain('npm run build:client');
      expect(page).not.toContain('main.js');
    } finally {
      await new Promise((r) => http.close(r));
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('playground in Chromium, offline', () => {
  test('example tabs, queries, a live subscription over graphql-ws, the token, and the Explorer', async () => {
    const { page } = browser;
    const ws = watchWebSocket(page);
    const authHeaders: (string | undefined)[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/graphql') authHeaders.push(r.headers()['authorization']);
    });
    const started = Date.now();
    await page.goto(gw.url);
    await page.waitForSelector('.graphiql-execute-button');
    await waitForModel(page, 'operation.graphql', (v) => v.length > 0, 'editor ready');
    const readyMs = Date.now() - started;

    // One tab per file, titled by GraphiQL from its first operation name; the first one active.
    const files = readdirSync(OPERATIONS_DIR).filter((f) => f.endsWith('.graphql')).sort();
    const firstOperation = (f: string) =>
      parse(readFileSync(join(OPERATIONS_DIR, f), 'utf8')).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    const titles = await page.locator(TAB_BUTTONS).allTextContents();
    expect(titles).toEqual(files.map((f) => (firstOperation(f) as any)?.name?.value ?? '<untitled>'));
    expect(await model(page, 'operation.graphql')).toBe(`# ${files[0]}\n${readFileSync(join(OPERATIONS_DIR, files[0]!), 'utf8')}`);

    // From here on the page carries a token (read at request time, no reload).
    await page.evaluate((t) => (globalThis as any).localStorage.setItem('buildgate.token', t), TOKEN);

    // The first example runs as is (fresh store: no builds yet).
    await page.click('.graphiql-execute-button');
    await waitForModel(page, 'response.json', (v) => v.includes('"totalCount": 0'), 'example query');

    // Typed and run at once: the fetcher re-parses, so the stale operation name is not sent.
    await typeOperation(page, '{ builds(first: 5) { totalCount } }');
    await page.click('.graphiql-execute-button');
    await waitForModel(page, 'response.json', (v) => v.includes('"totalCount": 0') && !v.includes('errors'), 'typed query');

    // Typed subscription run at once: must go over WebSocket, then show a live event.
    await typeOperation(page, 'subscription { buildsChanged { kind build { name } } }');
    await page.click('.graphiql-execute-button');
    const deadline = Date.now() + 10_000;
    while (!ws.sent.some((m) => m.type === 'subscribe') && Date.now() < deadline) await page.waitForTimeout(50);
    expect(ws.sent.map((m) => m.type)).toEqual(['connection_init', 'subscribe']);
    await page.waitForTimeout(200); // let the server register the subscription before the event
    const created = await gw.gql('mutation { createBuild(input: { build: { name: "from-node", steps: [{ stepOrder: 1, stepType: SHELL, shell: { command: "true" } }] } }) { build { id } } }');
    expect(created.errors).toBeUndefined();
    await waitForModel(page, 'response.json', (v) => v.includes('"kind": "CREATED"') && v.includes('"name": "from-node"'), 'live event');
    await hasText(page.locator('.graphiql-response'), 'from-node');
    expect(ws.received.filter((m) => m.type === 'next')).toHaveLength(1);

    // The token went out on HTTP and in the graphql-ws connection_init.
    expect(authHeaders.at(-1)).toBe(`Bearer ${TOKEN}`);
    expect(ws.sent.find((m) => m.type === 'connection_init')?.payload).toEqual({ authorization: `Bearer ${TOKEN}` });

    // The example tab with a variables file shows them.
    const varsFile = (f: string) => join(OPERATIONS_DIR, f.replace(/\.graphql$/, '.variables.json'));
    const withVars = files.findIndex((f) => existsSync(varsFile(f)));
    expect(withVars).toBeGreaterThanOrEqual(0); // schema/operations should keep one example with variables
    await page.locator(TAB_BUTTONS).nth(withVars).click();
    const expected = JSON.parse(readFileSync(varsFile(files[withVars]!), 'utf8'));
    const shown = await waitForModel(page, 'variables.json', (v) => v.trim().startsWith('{'), 'example variables');
    expect(JSON.parse(shown)).toEqual(expected);

    await page.click('[aria-label="Show GraphiQL Explorer"]');
    const panel = page.locator('.graphiql-plugin');
    await hasText(panel, 'Explorer');
    await hasText(panel, 'builds');

    expect(browser.blocked).toEqual([]);
    const paths = browser.served.map((u) => new URL(u).pathname);
    for (const f of ['main.js', 'main.css', 'editor.worker.js', 'json.worker.js', 'graphql.worker.js']) {
      expect(paths).toContain(`/graphiql-assets/${f}`);
    }
    expect(browser.problems).toEqual([]);
    console.log(`playground ready ${readyMs} ms after goto; whole browser flow ${Date.now() - started} ms`);
  }, 60_000);
});
