// A real gateway for benchmarks: compiled server, fresh SQLite file, silent logs, the bench
// as its own admin with no per-IP websocket limit, no mutation rate limit (the dashboard mix
// starts 200 runs) and no per-credential operation limit (it
// opens far more sockets and subscriptions than those allow).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { parseConfig } from '../dist/src/config/index.js';
import { startServer } from '../dist/src/server/index.js';

// opts.databaseUrl: another gateway's store (replicas); opts.redisUrl: fan-out through Redis;
// opts.engine: engine settings (say maxConcurrentRuns).
export async function startBenchGateway(name, opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bg-${name}-`));
  const config = parseConfig({
    ...(opts.redisUrl ? { redis: { url: opts.redisUrl } } : {}),
    server: { port: 0, playground: false }, database: { url: opts.databaseUrl ?? `sqlite:${dir}/b.db` }, log: { level: 'silent' }, demo: { seed: false },
    engine: { workDir: `${dir}/ws`, ...opts.engine }, auth: { anonymous: 'admin' }, limits: { wsConnectsPerMinute: 0, mutationsPerMinute: 0, wsOperationsPerCredential: 1_000_000 },
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }) });
  const gql = async (query, variables) => {
    const r = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const b = await r.json();
    if (b.errors) throw new Error(JSON.stringify(b.errors));
    return b.data;
  };
  const close = async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { server, gql, close, dir };
}
