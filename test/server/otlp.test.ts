import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { closedPort } from '../support/ports.js';

const root = path.resolve(new URL('../..', import.meta.url).pathname);
const cli = path.join(root, 'dist/src/cli.js');

/**
 * tracing.otlpEndpoint from the environment: the built CLI exports its spans over OTLP/HTTP
 * to a collector (here a real HTTP server keeping what it is sent). Needs `npm run build:server`.
 */
describe('OTLP export', () => {
  it('sends the spans of an operation to the configured collector (flushed when the gateway stops)', async () => {
    const received: Array<{ path: string; type: string; body: string }> = [];
    const collector = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { received.push({ path: req.url ?? '', type: String(req.headers['content-type']), body }); res.writeHead(200, { 'content-type': 'application/json' }).end('{}'); });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(collector.address() as import('node:net').AddressInfo).port}/v1/traces`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-otlp-'));
    const port = await closedPort();
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BUILDGATE_') && !['PORT', 'DATABASE_URL', 'REDIS_URL'].includes(k)));
    const p = spawn(process.execPath, [cli, 'serve', '--port', String(port), '--no-demo'], {
      cwd: dir, env: { ...base, NODE_OPTIONS: '', BUILDGATE_LOG__LEVEL: 'warn', BUILDGATE_TRACING__OTLP_ENDPOINT: endpoint, BUILDGATE_TRACING__SERVICE_NAME: 'bg-otlp-test' },
    });
    let stderr = '';
    const up = new Promise<void>((resolve, reject) => {
      p.stderr!.on('data', (d) => { stderr += d; if (stderr.includes('buildgate is up')) resolve(); });
      p.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    try {
      await up;
      const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'query OtlpProbe { builds(first: 1) { totalCount } }' }),
      });
      expect(res.status).toBe(200);
      p.kill('SIGTERM');
      expect(await exited).toBe(0);
      const spans = received.filter((r) => r.path === '/v1/traces');
      expect(spans.length).toBeGreaterThan(0);
      const all = spans.map((r) => r.body).join('\n');
      expect(all).toContain('query OtlpProbe');
      expect(all).toContain('provider native.listBuilds');
      expect(all).toContain('bg-otlp-test');
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
      collector.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
