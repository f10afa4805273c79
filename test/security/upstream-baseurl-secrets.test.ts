import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import Keyv from 'keyv';
import { pino } from 'pino';
import { UpstreamError } from '../../src/errors.js';
import { UpstreamClient } from '../../src/providers/upstream/client.js';
import { FakeServer, json } from '../fakes/common.js';

/**
 * A password in an upstream's baseUrl is on that client's scrub list: an upstream error
 * that echoes the URL it was called with (credentials and all) or the Basic-auth header
 * made of them reaches neither the error nor the logs.
 */
const PW = 'UP-BASE-p@ss-41';
const b64 = (s: string) => Buffer.from(s).toString('base64');

let srv: { url: string; close: () => Promise<void> };
const lines: string[] = [];
let client: UpstreamClient;

beforeAll(async () => {
  // Like a proxy's error page: the full URL rebuilt from the Host and the Basic credentials.
  const fake = new FakeServer('echo').get('/api/items', (r) => {
    const creds = Buffer.from(String(r.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    return json({ message: `denied: http://${creds}@${r.headers.host}${r.path} (authorization: ${r.headers.authorization})` }, 403);
  });
  srv = await fake.start();
  const logger = pino({ level: 'debug' }, new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } }));
  client = new UpstreamClient({
    providerId: 'echo-up', baseUrl: srv.url.replace('//', `//robot:${encodeURIComponent(PW)}@`),
    timeoutMs: 1000, retries: 0, cacheTtlMs: 0, cache: new Keyv(), logger,
  });
});
afterAll(async () => {
  await client.close();
  await srv.close();
});

it('an upstream error echoing the baseUrl credentials shows none of them (message, extensions, health, logs)', async () => {
  const err = await client.get('/api/items').then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(UpstreamError);
  const e = err as UpstreamError;
  // The upstream did get the credentials, and did echo them.
  expect(JSON.stringify(e.extensions.upstream)).toContain('denied: http://robot:***@');
  const seen = [e.message, JSON.stringify(e.extensions), JSON.stringify(client.health()), lines.join('\n')].join('\n');
  expect(seen).toContain('***');
  for (const form of [PW, encodeURIComponent(PW), b64(`robot:${PW}`).replace(/=+$/, '')]) expect(seen).not.toContain(form);
});
