/**
 * Headless Debian Chromium through playwright-core, sealed off from every host but
 * 127.0.0.1: requests elsewhere are aborted and recorded, so a test can assert that a page
 * works offline (no CDN fonts, scripts or workers).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface SealedBrowser {
  context: BrowserContext;
  page: Page;
  /** URLs of aborted requests and WebSockets to other hosts. */
  blocked: string[];
  /** URLs of requests let through to 127.0.0.1 (workers included). */
  served: string[];
  /** Console errors/warnings and uncaught page errors. */
  problems: string[];
  close(): Promise<void>;
}

const isLocal = (url: string): boolean => {
  try {
    return new URL(url).hostname === '127.0.0.1';
  } catch {
    return false;
  }
};

export async function openSealedChromium(): Promise<SealedBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  const userDataDir = await mkdtemp(join(tmpdir(), 'buildgate-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Second wall behind the route below: names other than 127.0.0.1 do not resolve.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
  const blocked: string[] = [];
  const served: string[] = [];
  const problems: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (isLocal(url)) {
      served.push(url);
      await route.continue();
    } else {
      blocked.push(url);
      await route.abort('blockedbyclient');
    }
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // WebSockets are not routed; record any that leave 127.0.0.1 (the resolver rule stops them).
  page.on('websocket', (ws) => {
    if (!isLocal(ws.url())) blocked.push(ws.url());
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console.${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  return {
    context,
    page,
    blocked,
    served,
    problems,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
