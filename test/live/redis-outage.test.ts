import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import path from 'node:path';
import { RunLogDocument } from '../generated/graphql.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { createShellBuild, startRun, waitUntil } from './follow.js';

/** A Redis of this test's own, on a free port, that it can stop and start again. */
class OwnRedis {
  private proc: ChildProcess | null = null;
  constructor(readonly port: number) {}
  static async create(): Promise<OwnRedis> {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
    });
    const r = new OwnRedis(port);
    await r.start();
    return r;
  }
  get url() { return `redis://127.0.0.1:${this.port}`; }
  async start(): Promise<void> {
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.proc = proc;
    let out = '';
    proc.stdout!.on('data', (d) => { out += d; });
    await waitUntil(async () => out, (o) => o.includes('Ready to accept connections'), 10000);
  }
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
  }
}

interface Outcome { lines: number; errors: Array<{ message: string; extensions?: { code?: string } }>; ended: 'complete' | 'error' | null }

/** Follows runLog, recording lines, errors (in `next` payloads or as the `error` message) and how it ended. */
function watch(client: Client, runId: string): Outcome & { done: Promise<void> } {
  const o: Outcome & { done: Promise<void> } = { lines: 0, errors: [], ended: null, done: Promise.resolve() };
  o.done = new Promise((resolve) => {
    client.subscribe<{ runLog: { lines: unknown[] } }>({ query: print(RunLogDocument), variables: { runId } }, {
      next: (v) => {
        if (v.errors) o.errors.push(...(v.errors as Outcome['errors']));
        o.lines += v.data?.runLog.lines.length ?? 0;
      },
      error: (e) => { o.errors.push(...(Array.isArray(e) ? e : [{ message: String(e) }])); o.ended = 'error'; resolve(); },
      complete: () => { o.ended = 'complete'; resolve(); },
    });
  });
  return o;
}

/** Waits for `p`, at most `ms`; the timer is cleared either way (a pending one would keep the worker alive after the suite). */
async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => { timer = setTimeout(r, ms); })]).finally(() => clearTimeout(timer));
}

const readyz = async (gw: TestGateway) => (await fetch(gw.server.url.replace(/\/graphql$/, '/readyz'))).status;

describe('Redis down under a gateway with engine.runOn: agents', () => {
  let redis: OwnRedis;
  let gw: TestGateway;
  let agent: ChildProcess | null = null;
  let closed = false;
  beforeAll(async () => {
    redis = await OwnRedis.create();
    gw = await startGateway({ config: { redis: { url: redis.url }, engine: { runOn: 'agents' } } });
    // A CLI agent: its own Redis connections stay out of this process.
    agent = spawn(process.execPath, [path.resolve('dist/src/cli.js'), 'agent'], {
      env: {
        ...process.env, NODE_OPTIONS: '', BUILDGATE_DATABASE__URL: gw.server.services.config.database.url, BUILDGATE_REDIS__URL: redis.url,
        BUILDGATE_ENGINE__WORK_DIR: `${gw.server.services.config.engine.workDir}-agent`, BUILDGATE_LOG__LEVEL: 'silent',
      },
    });
    let err = '';
    agent.stderr!.on('data', (d) => { err += d; });
    await waitUntil(async () => err, (e) => e.includes('buildgate agent is up'), 20000);
  });
  afterAll(async () => {
    agent?.kill('SIGKILL');
    if (gw && !closed) await gw.close();
    await redis.stop();
  });

  it('subscriptions end with UPSTREAM_UNAVAILABLE, /readyz says not ready, all resumes when Redis returns, and shutdown stays fast', async () => {
    const done = await startRun(gw, await createShellBuild(gw, 'counted', 'seq 1 100'));
    await waitUntil(async () => (await gw.gql<{ run: { state: string } }, { id: string }>('query($id: ID!) { run(id: $id) { state } }', { id: done })).data!.run!.state, (s) => s === 'DONE', 20000);
    const running = await startRun(gw, await createShellBuild(gw, 'long', 'echo started; sleep 8'));
    const client = gw.ws();
    const following = watch(client, running);
    await waitUntil(async () => following.lines, (n) => n >= 2, 20000);
    expect(await readyz(gw)).toBe(200);

    await redis.stop();
    // A subscriber that was following: its events cannot arrive any more; it is told so and ends.
    await atMost(following.done, 8000);
    expect(following.ended).not.toBeNull(); // graphql-ws: an error message ends the operation
    expect(following.errors.map((e) => e.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
    await waitUntil(() => readyz(gw), (s) => s === 503, 5000);
    // A new subscriber, even of a finished run: an error at once, not a wait for nothing.
    const t0 = Date.now();
    const late = watch(client, done);
    await atMost(late.done, 8000);
    expect(late.ended).toBe('complete'); // a next with the error, then complete
    expect(late.errors.map((e) => e.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(Date.now() - t0).toBeLessThan(6000);

    await redis.start();
    await waitUntil(() => readyz(gw), (s) => s === 200, 15000);
    const again = watch(client, done);
    await again.done;
    expect(again).toMatchObject({ ended: 'complete', errors: [] });
    expect(again.lines).toBeGreaterThan(100);
    const resumed = watch(client, running);
    await resumed.done;
    expect(resumed).toMatchObject({ ended: 'complete', errors: [] });
    // Redis came back empty (no heartbeats): the run on its live agent was not taken for lost.
    expect((await gw.gql<{ run: { state: string } }, { id: string }>('query($id: ID!) { run(id: $id) { state } }', { id: running })).data!.run!.state).toBe('DONE');

    await redis.stop();
    const t1 = Date.now();
    await gw.close();
    closed = true;
    expect(Date.now() - t1).toBeLessThan(2000); // 13.6 s before (commands waiting for Redis)
  }, 90_000);
});
