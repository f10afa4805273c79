/**
 * Driving the GraphiQL playground in Chromium: its editors are Monaco models reached through
 * `globalThis.__MONACO` (set by @graphiql/react), which is sturdier than scraping the DOM.
 */
import type { Locator, Page } from 'playwright-core';

/** The tab buttons, titled by GraphiQL with the operation name. */
export const TAB_BUTTONS = '.graphiql-tab button[aria-controls="graphiql-session"]';

/** Contents of the Monaco model whose URI ends with `suffix` (operation.graphql, variables.json, headers.json, response.json). */
export function model(page: Page, suffix: string): Promise<string | null> {
  return page.evaluate((s) => {
    const monaco = (globalThis as any).__MONACO;
    const m = monaco?.editor.getModels().find((x: any) => x.uri.toString().endsWith(s));
    return m ? (m.getValue() as string) : null;
  }, suffix);
}

export async function waitForModel(page: Page, suffix: string, test: (v: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await model(page, suffix);
    if (last !== null && test(last)) return last;
    await page.waitForTimeout(50);
  }
  throw new Error(`${what}: ${suffix} never matched; last value: ${last}`);
}

/** Replaces the text of an editor by typing; insertText avoids Monaco's bracket auto-closing. */
async function typeInto(page: Page, editor: Locator, text: string): Promise<void> {
  await editor.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

export function typeOperation(page: Page, text: string): Promise<void> {
  return typeInto(page, page.locator('.graphiql-query-editor'), text);
}

/** The variables or headers editor below the operation (its tab in the editor tools is opened first). */
export async function typeTool(page: Page, tool: 'variables' | 'headers', text: string): Promise<void> {
  await page.click(`.graphiql-editor-tools button[data-name="${tool}"]`);
  await typeInto(page, page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden)'), text);
}

/** Waits until the element shows `text` (Monaco renders spaces as nbsp; hasText normalises them). */
export function hasText(locator: Locator, text: string): Promise<void> {
  return locator.filter({ hasText: text }).first().waitFor({ timeout: 10_000 });
}

export async function openTab(page: Page, title: string): Promise<void> {
  await page.locator(TAB_BUTTONS).filter({ hasText: new RegExp(`^${title}$`) }).click();
}

export interface Marker {
  severity: number;
  message: string;
  line: number;
}

/** Markers on the model whose URI ends with `suffix`, as Monaco shows them (squiggles and the problems list). */
export function markers(page: Page, suffix: string): Promise<Marker[]> {
  return page.evaluate((s) => {
    const monaco = (globalThis as any).__MONACO;
    const m = monaco?.editor.getModels().find((x: any) => x.uri.toString().endsWith(s));
    if (!m) return [];
    return monaco.editor
      .getModelMarkers({ resource: m.uri })
      .map((k: any) => ({ severity: k.severity, message: k.message, line: k.startLineNumber }));
  }, suffix);
}

/**
 * The variables editor's markers once they have settled for the operation in the editor:
 * first the JSON schema derived from that operation (its variable names as properties) is in
 * place for the variables model, then the markers stay the same for `quietMs`. Fails when
 * the schema for these variables never appears.
 */
export async function settledVariableMarkers(page: Page, variableNames: string[], quietMs = 1500): Promise<Marker[]> {
  const expected = [...variableNames].sort();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const names = await page.evaluate(() => {
      const monaco = (globalThis as any).__MONACO;
      const vars = monaco?.editor.getModels().find((x: any) => x.uri.toString().endsWith('variables.json'));
      const schemas: any[] = monaco?.languages.json?.jsonDefaults.diagnosticsOptions.schemas ?? [];
      const mine = schemas.find((s) => vars && (s.fileMatch ?? []).includes(vars.uri.toString()));
      return mine ? Object.keys(mine.schema?.properties ?? {}).sort() : null;
    });
    if (names && JSON.stringify(names) === JSON.stringify(expected)) break;
    if (Date.now() > deadline) throw new Error(`variables schema never matched ${expected.join(', ')}; last: ${names?.join(', ')}`);
    await page.waitForTimeout(100);
  }
  let last = JSON.stringify(await markers(page, 'variables.json'));
  let stableSince = Date.now();
  while (Date.now() - stableSince < quietMs) {
    await page.waitForTimeout(100);
    const now = JSON.stringify(await markers(page, 'variables.json'));
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    }
    if (Date.now() > deadline + 20_000) break;
  }
  return JSON.parse(last) as Marker[];
}

/** graphql-ws messages the page sent and received, with the time each was seen. */
export function watchWebSocket(page: Page): { sent: any[]; received: any[] } {
  const seen = { sent: [] as any[], received: [] as any[] };
  page.on('websocket', (ws) => {
    ws.on('framesent', ({ payload }) => seen.sent.push({ ...JSON.parse(String(payload)), at: Date.now() }));
    ws.on('framereceived', ({ payload }) => seen.received.push({ ...JSON.parse(String(payload)), at: Date.now() }));
  });
  return seen;
}
