import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type BrowserContext } from 'playwright-core';
import { ApiKeys } from '../../src/auth/api-keys.js';
import { CHROMIUM_PATH } from '../support/chromium.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/**
 * Cross-site websocket hijacking as a browser does it: a page of another site (evil.example,
 * resolved to this machine by Chromium's host rules) opens the embedded default's websocket
 * and asks for the builds. The browser sends its own Origin; the gateway must refuse it,
 * while a page on a loopback origin (a local frontend) still works.
 */
describe('a page of another site opening the gateway\'s websocket', () => {
  let gw: TestGateway;
  let pages: Server;
  let context: BrowserContext;
  let dataDir: string;
  let pagePort: number;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}`);
    gw = await startGateway({ config: { auth: { anonymous: undefined } } });
    const admin = (await new ApiKeys(gw.server.store).create({ role: 'admin' })).key;
    const created = await gw.gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: { name: 'secret-build', steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { shellType: 'SCRIPT', command: 'echo s3cret' } }] } }, { authorization: `Bearer ${admin}` });
    expect(created.errors).toBeUndefined();
    // The attacker's page: it reports what the socket gave it in document.title.
    const wsUrl = gw.url.replace(/^http/, 'ws');
    pages = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<script>
        const ws = new WebSocket(${JSON.stringify(wsUrl)}, 'graphql-transport-ws');
        ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init' }));
        ws.onmessage = (e) => {
          const m = JSON.parse(e.data);
          if (m.type === 'connection_ack') ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ builds { edges { node { name } } } }' } }));
          if (m.type === 'next') document.title = 'read ' + JSON.stringify(m.payload.data);
        };
        ws.onclose = (e) => { if (!document.title) document.title = 'closed ' + e.code; };
      </script>`);
    });
    await new Promise<void>((r) => pages.listen(0, '127.0.0.1', () => r()));
    pagePort = (pages.address() as AddressInfo).port;
    dataDir = await mkdtemp(join(tmpdir(), 'buildgate-chromium-'));
    context = await chromium.launchPersistentContext(dataDir, {
      executablePath: CHROMIUM_PATH, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--host-resolver-rules=MAP evil.example 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    });
  });
  afterAll(async () => {
    await context?.close();
    await rm(dataDir, { recursive: true, force: true });
    await new Promise((r) => pages?.close(r));
    await gw?.close();
  });

  const visit = async (origin: string) => {
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    await page.waitForFunction('document.title !== ""', undefined, { timeout: 15000 });
    const title = await page.title();
    await page.close();
    return title;
  };

  it('is refused (the handshake fails, nothing is read); the same page on a loopback origin reads', async () => {
    const evil = await visit(`http://evil.example:${pagePort}`);
    expect(evil).toBe('closed 1006');
    expect(evil).not.toContain('secret-build');
    expect(await visit(`http://127.0.0.1:${pagePort}`)).toContain('secret-build');
  });
});
