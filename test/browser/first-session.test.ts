/**
 * The README's first session, run in headless Chromium against a real gateway with the demo
 * builds, as the README writes it: the key goes into the Token field, then the BuildsList,
 * RunBuild, RunLog and RunPage tabs with the variables the README shows. No step may leave an
 * error marker in the editors; every example tab's variables must be free of them too.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import type { Page } from 'playwright-core';
import { ApiKeys } from '../../src/auth/api-keys.js';
import { packageRoot } from '../../src/server/package-root.js';
import { playgroundAssetsDir } from '../../src/server/playground.js';
import { openSealedChromium, type SealedBrowser } from '../support/chromium.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import {
  markers,
  model,
  openTab,
  settledVariableMarkers,
  TAB_BUTTONS,
  typeTool,
  waitForModel,
  watchWebSocket,
} from '../support/graphiql.js';

const root = packageRoot();
const OPERATIONS_DIR = join(root, 'schema', 'operations');
const README = readFileSync(join(root, 'README.md'), 'utf8');

let gw: TestGateway;
let browser: SealedBrowser;
/** What `npx buildgate keys create --role admin --name me` prints. */
let KEY = '';

beforeAll(async () => {
  if (!existsSync(join(playgroundAssetsDir(), 'main.js'))) {
    await promisify(execFile)(process.execPath, ['scripts/build-client.mjs'], { cwd: root });
  }
  // As `npm start` on loopback: demo builds, anonymous callers read only.
  gw = await startGateway({ config: { demo: { seed: true }, auth: { anonymous: 'viewer' } } });
  KEY = (await new ApiKeys(gw.server.store).create({ role: 'admin', name: 'me' })).key;
}, 180_000);

// A browser (profile) per test: GraphiQL writes its tabs to localStorage when it likes, so
// clearing storage under a loaded page does not give the next test a first visit.
beforeEach(async () => {
  browser = await openSealedChromium();
}, 60_000);

afterEach(async () => {
  await browser?.close();
});

afterAll(async () => {
  await gw?.close();
});

/** The variables the README shows for a tab in its first session (`TabName` tab: … `{json}`). */
function readmeVariables(tab: string): Record<string, unknown> {
  const line = README.split('\n').find((l) => /^\d+\. /.test(l) && l.includes(`\`${tab}\` tab`));
  const json = line && /`(\{.*?\})`/.exec(line)?.[1];
  if (!json) throw new Error(`README's first session shows no variables for ${tab}`);
  return JSON.parse(json) as Record<string, unknown>;
}

/** The user's edit: every `<…>` placeholder that starts with `prefix` becomes the copied id. */
function fill(value: unknown, prefix: string, id: string): unknown {
  if (typeof value === 'string') return value.startsWith(prefix) ? id : value;
  if (Array.isArray(value)) return value.map((v) => fill(v, prefix, id));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, prefix, id)]));
  }
  return value;
}

function operationOf(file: string): OperationDefinitionNode {
  const op = parse(readFileSync(join(OPERATIONS_DIR, file), 'utf8')).definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  if (!op) throw new Error(`${file} holds no operation`);
  return op;
}

const files = readdirSync(OPERATIONS_DIR).filter((f) => f.endsWith('.graphql')).sort();
function variableNames(tab: string): string[] {
  const file = files.find((f) => operationOf(f).name?.value === tab);
  if (!file) throw new Error(`no operation file for ${tab}`);
  return (operationOf(file).variableDefinitions ?? []).map((d) => d.variable.name.value);
}

/** No error marker in the operation editor, and none at all in the variables editor. */
async function expectNoMarkers(page: Page, tab: string): Promise<void> {
  const vars = await settledVariableMarkers(page, variableNames(tab));
  const ops = (await markers(page, 'operation.graphql')).filter((m) => m.severity >= 8);
  expect({ tab, variables: vars, operation: ops }).toEqual({ tab, variables: [], operation: [] });
}

async function run(page: Page): Promise<void> {
  await page.click('.graphiql-execute-button');
}

async function response(page: Page, test: (body: any) => boolean, what: string, timeoutMs = 30_000): Promise<any> {
  const text = await waitForModel(
    page,
    'response.json',
    (v) => {
      try {
        return test(JSON.parse(v));
      } catch {
        return false;
      }
    },
    what,
    timeoutMs,
  );
  return JSON.parse(text);
}

async function freshPage(page: Page): Promise<void> {
  await page.goto(gw.url);
  await page.waitForSelector('.graphiql-execute-button');
  await waitForModel(page, 'operation.graphql', (v) => v.length > 0, 'editor ready');
}

test('the README first session, as written, at 1440 px, with no editor error markers on any step', async () => {
  const { page } = browser;
  await page.setViewportSize({ width: 1440, height: 900 });
  const ws = watchWebSocket(page);
  const posts: { auth?: string; operation?: string }[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/graphql') {
      posts.push({ auth: r.headers()['authorization'], operation: (r.postDataJSON() as any)?.operationName });
    }
  });
  await freshPage(page);

  // The first tabs are the session's, and RunBuild shows without scrolling.
  const titles = await page.locator(TAB_BUTTONS).allTextContents();
  expect(titles.slice(0, 4)).toEqual(['BuildsList', 'RunBuild', 'RunLog', 'RunPage']);
  const runBuildTab = page.locator(TAB_BUTTONS).nth(1);
  const box = (await runBuildTab.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(1440);
  const onTop = await page.evaluate(
    ({ x, y }) => (globalThis as any).document.elementFromPoint(x, y)?.closest('.graphiql-tab button')?.textContent,
    { x: box.x + box.width / 2, y: box.y + box.height / 2 },
  );
  expect(onTop).toBe('RunBuild');

  // The key goes into the Token field.
  await page.fill('.bg-token input', KEY);
  expect(await page.evaluate(() => (globalThis as any).localStorage.getItem('buildgate.token'))).toBe(KEY);

  // 1. BuildsList: Run, copy hello-shell's id.
  await openTab(page, 'BuildsList');
  await expectNoMarkers(page, 'BuildsList');
  await run(page);
  const list = await response(page, (b) => Array.isArray(b.data?.builds?.edges), 'BuildsList');
  const hello = list.data.builds.edges.find((e: any) => e.node.name === 'hello-shell')?.node;
  expect(hello?.id).toEqual(expect.any(String));

  // 2. RunBuild: the README's variables are the tab's; the copied id replaces the placeholder.
  await openTab(page, 'RunBuild');
  const runBuildVars = readmeVariables('RunBuild');
  expect(JSON.parse((await model(page, 'variables.json'))!)).toEqual(runBuildVars);
  await expectNoMarkers(page, 'RunBuild');
  const withBuildId = fill(runBuildVars, '<id of hello-shell', hello.id);
  expect(withBuildId).not.toEqual(runBuildVars);
  await typeTool(page, 'variables', JSON.stringify(withBuildId));
  await expectNoMarkers(page, 'RunBuild');
  await run(page);
  const started = await response(page, (b) => b.data?.runBuild || b.errors, 'RunBuild');
  expect(started.errors).toBeUndefined();
  expect(started.data.runBuild.errors).toEqual([]);
  const runId: string = started.data.runBuild.run.id;
  expect(posts.find((p) => p.operation === 'RunBuild')?.auth).toBe(`Bearer ${KEY}`);

  // 3. RunLog: the run's lines arrive live over the websocket, with the token.
  await openTab(page, 'RunLog');
  const runLogVars = readmeVariables('RunLog');
  expect(JSON.parse((await model(page, 'variables.json'))!)).toEqual(runLogVars);
  expect(fill(runLogVars, '<id of the run', runId)).not.toEqual(runLogVars);
  await typeTool(page, 'variables', JSON.stringify(fill(runLogVars, '<id of the run', runId)));
  await expectNoMarkers(page, 'RunLog');
  await run(page);
  await response(page, (b) => b.data?.runLog?.lines?.some((l: any) => /^line \d/.test(l.text)), 'RunLog shows log lines');
  const deadline = Date.now() + 60_000;
  while (!ws.received.some((m) => m.type === 'complete') && Date.now() < deadline) await page.waitForTimeout(100);
  const init = ws.sent.find((m) => m.type === 'connection_init');
  expect(init?.payload).toEqual({ authorization: `Bearer ${KEY}` });
  const batches = ws.received.filter((m) => m.type === 'next' && m.payload?.data?.runLog?.lines?.length);
  expect(batches.some((m) => m.payload.errors)).toBe(false);
  const texts = batches.flatMap((m) => m.payload.data.runLog.lines.map((l: any) => l.text));
  expect(texts).toEqual(expect.arrayContaining(['hello from buildgate', 'line 1', 'line 5']));
  // Live, not one replay at the end: the script sleeps a second between lines.
  expect(batches.length).toBeGreaterThan(1);
  expect(batches.at(-1)!.at - batches[0]!.at).toBeGreaterThan(1000);
  expect(ws.received.some((m) => m.type === 'complete')).toBe(true);

  // 4. RunPage: steps, record, last lines and logUrl.
  await openTab(page, 'RunPage');
  const runPageVars = readmeVariables('RunPage');
  expect(JSON.parse((await model(page, 'variables.json'))!)).toEqual(runPageVars);
  expect(fill(runPageVars, '<id of the run', runId)).not.toEqual(runPageVars);
  await typeTool(page, 'variables', JSON.stringify(fill(runPageVars, '<id of the run', runId)));
  await expectNoMarkers(page, 'RunPage');
  await run(page);
  const runPage = await response(page, (b) => b.data?.run || b.errors, 'RunPage');
  expect(runPage.errors).toBeUndefined();
  expect(runPage.data.run).toMatchObject({ id: runId, state: 'DONE', build: { name: 'hello-shell' } });
  expect(runPage.data.run.steps.length).toBeGreaterThan(0);
  expect(runPage.data.run.log.lines.map((l: any) => l.text)).toContain('line 5');
  expect(runPage.data.run.logUrl).toEqual(expect.any(String));
  const log = await fetch(new URL(runPage.data.run.logUrl, gw.url), { headers: { authorization: `Bearer ${KEY}` } });
  expect(log.status).toBe(200);
  expect(await log.text()).toContain('line 5');

  // Every HTTP operation of the session went out with the key (introspection ran anonymously before it was set).
  const session = posts.filter((p) => ['BuildsList', 'RunBuild', 'RunPage'].includes(p.operation ?? ''));
  expect(session.map((p) => [p.operation, p.auth])).toEqual(
    ['BuildsList', 'RunBuild', 'RunPage'].map((o) => [o, `Bearer ${KEY}`]),
  );
  expect(browser.blocked).toEqual([]);
  expect(browser.problems).toEqual([]);
}, 180_000);

test('every example tab shows its variables without an error marker', async () => {
  const { page } = browser;
  await freshPage(page);
  const titles = await page.locator(TAB_BUTTONS).allTextContents();
  expect(titles).toEqual(files.map((f) => operationOf(f).name?.value));
  const found: { tab: string; variables: unknown[] }[] = [];
  for (const [i, file] of files.entries()) {
    const tab = titles[i]!;
    await page.locator(TAB_BUTTONS).nth(i).click();
    const varsFile = join(OPERATIONS_DIR, file.replace(/\.graphql$/, '.variables.json'));
    if (existsSync(varsFile)) {
      const expected = JSON.parse(readFileSync(varsFile, 'utf8'));
      await waitForModel(page, 'variables.json', (v) => {
        try {
          return JSON.stringify(JSON.parse(v)) === JSON.stringify(expected);
        } catch {
          return false;
        }
      }, `${tab} variables`);
    }
    found.push({ tab, variables: await settledVariableMarkers(page, variableNames(tab)) });
  }
  expect(found).toEqual(titles.map((tab) => ({ tab, variables: [] })));

  // The check sees markers when there are some: a number where the schema wants a list of strings.
  const [listOfIds] = variableNames('BuildsChanged');
  await openTab(page, 'BuildsChanged');
  await typeTool(page, 'variables', JSON.stringify({ [listOfIds!]: 5 }));
  const wrong = await settledVariableMarkers(page, [listOfIds!]);
  expect(wrong.length).toBeGreaterThan(0);
}, 180_000);

test('subscriptions use the Token field, and a tab\'s own Authorization header over it', async () => {
  const { page } = browser;
  const other = (await new ApiKeys(gw.server.store).create({ role: 'viewer', name: 'other' })).key;
  await freshPage(page);
  const ws = watchWebSocket(page);
  await page.fill('.bg-token input', `Bearer ${KEY}`); // a pasted header value keeps the token only
  await openTab(page, 'BuildsChanged');
  await run(page);
  const until = async (n: number) => {
    const deadline = Date.now() + 15_000;
    while (ws.sent.filter((m) => m.type === 'subscribe').length < n && Date.now() < deadline) await page.waitForTimeout(50);
  };
  await until(1);
  await run(page); // stop it
  await typeTool(page, 'headers', JSON.stringify({ Authorization: `Bearer ${other}` }));
  await run(page);
  await until(2);
  const inits = ws.sent.filter((m) => m.type === 'connection_init').map((m) => m.payload);
  expect(inits).toEqual([{ authorization: `Bearer ${KEY}` }, { authorization: `Bearer ${other}` }]);
  expect(await page.evaluate(() => (globalThis as any).localStorage.getItem('buildgate.token'))).toBe(KEY);
  expect(browser.problems).toEqual([]);
}, 120_000);

test('tabs edited in the browser stay across visits, until the example operations change', async () => {
  const { page } = browser;
  await freshPage(page);
  const storage = (key: string) => page.evaluate((k) => (globalThis as any).localStorage.getItem(k) as string | null, key);
  const defaults = (await model(page, 'variables.json'))!;
  await typeTool(page, 'variables', '{"first": 3}');
  // GraphiQL stores its tabs a moment after an edit.
  const deadline = Date.now() + 10_000;
  while (!(await storage('graphiql:tabState'))?.includes('first\\": 3') && Date.now() < deadline) await page.waitForTimeout(100);

  await page.reload();
  await waitForModel(page, 'variables.json', (v) => v === '{"first": 3}', 'edited variables kept');

  // As a browser that last saw other examples (or none: before the fingerprint existed).
  await page.evaluate(() => (globalThis as any).localStorage.setItem('buildgate.examples', 'older'));
  await page.reload();
  await waitForModel(page, 'variables.json', (v) => v === defaults, 'example variables back');
  expect(await page.locator(TAB_BUTTONS).allTextContents()).toEqual(files.map((f) => operationOf(f).name?.value));
  expect(await storage('buildgate.examples')).not.toBe('older');
}, 120_000);
