import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { parseConfig } from '../../src/config/index.js';
import { startAgent, type RunningAgent } from '../../src/engine/agents.js';
import { PG_URL, startGateway, type TestGateway } from '../support/gateway.js';
import { createShellBuild, followLog, startRun, storedEnd, waitUntil } from '../live/follow.js';
import { filesUnder, killAll, newMarker, processesWith, sleepyScript } from '../support/processes.js';

const REDIS_URL = process.env.BUILDGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN_STATE = 'query($id: ID!) { run(id: $id) { state steps { state } } }';

/**
 * A gateway with engine.runOn: agents and build agents beside it, all on one PostgreSQL
 * store and one Redis (as on separate machines: the agents share nothing else with it).
 */
describe('build agents taking runs from BullMQ queues (engine.runOn: agents)', () => {
  let gw: TestGateway;
  const agents: RunningAgent[] = [];
  const dirs: string[] = [];
  const agent = async (buildServerHosts: string[]) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-agent-'));
    dirs.push(dir);
    const config = parseConfig({ database: { url: PG_URL }, redis: { url: REDIS_URL }, engine: { workDir: dir }, log: { level: 'silent' } });
    const a = await startAgent(config, { buildServerHosts, pgSchema: gw.pgSchema, logger: pino({ level: 'silent' }) });
    agents.push(a);
    return { agent: a, dir };
  };
  const state = async (runId: string) => (await gw.gql<{ run: { state: string; steps: Array<{ state: string }> } }, { id: string }>(RUN_STATE, { id: runId })).data!.run;
  const buildOn = async (name: string, command: string, buildServerHost: string) => {
    const r = await gw.gql<{ createBuild: { build: { id: string } } }, object>('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }',
      { i: { name, buildServerHost, steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { command } }] } });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!.createBuild.build!.id;
  };

  beforeAll(async () => {
    gw = await startGateway({ database: 'postgres', config: { redis: { url: REDIS_URL }, engine: { runOn: 'agents' } } });
  });
  afterAll(async () => {
    for (const a of agents) await a.close();
    await gw?.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('an agent runs it: the gateway only queues; its subscribers get every line and the end', async () => {
    const { dir } = await agent([]);
    const buildId = await createShellBuild(gw, 'on-agent', 'echo "on $(hostname)"; seq 1 500; echo answer=$((6*7))');
    const runId = await startRun(gw, buildId);
    const log = await followLog(gw.ws(), { runId });
    const end = await storedEnd(gw, runId);
    expect(end.state).toBe('DONE');
    expect(log.completed).toBe(true);
    expect(log.seqs).toEqual(Array.from({ length: end.lastSeq }, (_v, i) => i + 1));
    expect(log.batches.flatMap((b) => b.lines.map((l) => l.text))).toContain('answer=42');
    // It ran in the agent's workspace, not the gateway's.
    const runKey = Buffer.from(runId, 'base64url').toString().split('|').at(-1)!;
    expect(fs.existsSync(path.join(dir, `run-${runKey}`))).toBe(true);
    expect(fs.existsSync(path.join(gw.server.services.config.engine.workDir, `run-${runKey}`))).toBe(false);
    // removeRun deletes its records here and its workspace on the agent.
    const rm = await gw.gql<{ removeRun: { removedRunId: string | null } }, { id: string }>('mutation($id: ID!) { removeRun(input: { runId: $id }) { removedRunId } }', { id: runId });
    expect(rm.errors).toBeUndefined();
    expect(rm.data!.removeRun.removedRunId).toBe(runId);
    await waitUntil(async () => fs.existsSync(path.join(dir, `run-${runKey}`)), (exists) => !exists, 10000);
  });

  it('a build with a buildServerHost waits for an agent of that server', async () => {
    const buildId = await buildOn('on-gpu', 'echo gpu', 'gpu-1.example:5000');
    const runId = await startRun(gw, buildId);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await state(runId)).state).toBe('QUEUED'); // the default agent does not take it
    await agent(['gpu-1.example:5000']);
    await waitUntil(() => state(runId), (s) => s.state === 'DONE', 20000);
  });

  it('cancels a running run on its agent (the step is killed) and a queued one before any agent takes it', async () => {
    const sleepy = await createShellBuild(gw, 'sleepy', 'echo started; sleep 60; echo never');
    const runId = await startRun(gw, sleepy);
    await waitUntil(() => state(runId), (s) => s.state === 'RUNNING' && s.steps[0]?.state === 'RUNNING', 20000);
    const t0 = Date.now();
    const r = await gw.gql<{ cancelRun: { run: { state: string } } }, { id: string }>('mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { state } } }', { id: runId });
    expect(r.errors).toBeUndefined();
    expect(r.data!.cancelRun.run.state).toBe('CANCELED');
    expect(Date.now() - t0).toBeLessThan(20000);
    expect((await state(runId)).steps[0]!.state).toBe('CANCELED');

    const nowhere = await buildOn('nowhere', 'echo should-not-run', 'nobody');
    const queued = await startRun(gw, nowhere);
    const c = await gw.gql<{ cancelRun: { run: { state: string } } }, { id: string }>('mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { state } } }', { id: queued });
    expect(c.data!.cancelRun.run.state).toBe('CANCELED');
    await agent(['nobody']);
    await new Promise((res) => setTimeout(res, 1500));
    const after = await state(queued);
    expect(after.state).toBe('CANCELED');
    expect(after.steps[0]!.state).toBe('CANCELED');
  });

  it('refuses to start an agent (CLI) or an agents gateway without redis.url', async () => {
    const cli = path.resolve('dist/src/cli.js');
    const p = spawn(process.execPath, [cli, 'agent'], { env: { ...process.env, NODE_OPTIONS: '', BUILDGATE_REDIS__URL: '' } });
    let err = '';
    p.stderr!.on('data', (d) => { err += d; });
    expect(await new Promise<number | null>((resolve) => p.on('exit', resolve))).toBe(2);
    expect(err).toContain('redis.url');
    await expect(startGateway({ config: { engine: { runOn: 'agents' } } })).rejects.toThrow(/engine\.runOn: .*redis\.url/);
  });
});

describe('a build agent killed in the middle of a run (CLI agent, SQLite file shared on one machine)', () => {
  let gw: TestGateway;
  let other: RunningAgent | null = null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-agent-kill-'));
  beforeAll(async () => {
    gw = await startGateway({ config: { redis: { url: REDIS_URL }, engine: { runOn: 'agents' } } });
  });
  afterAll(async () => {
    await other?.close();
    await gw?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the next agent ends its run as ERROR with the reason, after engine.agentStallMs', async () => {
    const dbUrl = gw.server.services.config.database.url;
    const env = {
      ...process.env, NODE_OPTIONS: '', BUILDGATE_DATABASE__URL: dbUrl, BUILDGATE_REDIS__URL: REDIS_URL,
      BUILDGATE_ENGINE__WORK_DIR: path.join(dir, 'a'), BUILDGATE_ENGINE__AGENT_STALL_MS: '2000', BUILDGATE_LOG__LEVEL: 'silent',
    };
    // Its own process group, so that kill -9 takes its build step's processes with it.
    const cli = spawn(process.execPath, [path.resolve('dist/src/cli.js'), 'agent'], { env, detached: true });
    let err = '';
    cli.stderr!.on('data', (d) => { err += d; });
    await waitUntil(async () => err, (e) => e.includes('buildgate agent is up'), 20000);
    const buildId = await createShellBuild(gw, 'doomed', 'echo started; sleep 60; echo never');
    const runId = await startRun(gw, buildId);
    const RUN = 'query($id: ID!) { run(id: $id) { state errorMessage } }';
    const run = async () => (await gw.gql<{ run: { state: string; errorMessage: string | null } }, { id: string }>(RUN, { id: runId })).data!.run;
    await waitUntil(run, (r) => r.state === 'RUNNING', 20000);
    process.kill(-cli.pid!, 'SIGKILL');
    await new Promise((r) => cli.once('exit', r));
    expect((await run()).state).toBe('RUNNING'); // nobody has noticed yet
    const config = parseConfig({ database: { url: dbUrl }, redis: { url: REDIS_URL }, engine: { workDir: path.join(dir, 'b'), agentStallMs: 2000 }, log: { level: 'silent' } });
    other = await startAgent(config, { buildServerHosts: [], logger: pino({ level: 'silent' }) });
    const ended = await waitUntil(run, (r) => r.state !== 'RUNNING', 30000);
    expect(ended.state).toBe('ERROR');
    expect(ended.errorMessage).toContain('build agent running it stopped');
    const log = await followLog(gw.ws(), { runId });
    expect(log.completed).toBe(true);
    expect(log.batches.flatMap((b) => b.lines.map((l) => l.text)).join('\n')).toContain('build agent running it stopped');
  }, 60_000);
});

describe('a build agent killed with kill -9 and no other agent left (CLI agent, SQLite file shared on one machine)', () => {
  let gw: TestGateway;
  let next: RunningAgent | null = null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-agent-alone-'));
  const marker = newMarker();
  beforeAll(async () => {
    gw = await startGateway({ config: { redis: { url: REDIS_URL }, engine: { runOn: 'agents', agentStallMs: 2000 } } });
  });
  afterAll(async () => {
    killAll(`sleep ${marker}`);
    await next?.close();
    await gw?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the gateway ends its run as ERROR after agentStallMs, cancelRun answers CANCELED at once, and its next start ends the step processes and removes the scripts', async () => {
    const dbUrl = gw.server.services.config.database.url;
    const workDir = path.join(dir, 'a');
    const env = {
      ...process.env, NODE_OPTIONS: '', BUILDGATE_DATABASE__URL: dbUrl, BUILDGATE_REDIS__URL: REDIS_URL,
      BUILDGATE_ENGINE__WORK_DIR: workDir, BUILDGATE_ENGINE__AGENT_STALL_MS: '2000', BUILDGATE_LOG__LEVEL: 'silent',
    };
    const cli = spawn(process.execPath, [path.resolve('dist/src/cli.js'), 'agent'], { env });
    let err = '';
    cli.stderr!.on('data', (d) => { err += d; });
    await waitUntil(async () => err, (e) => e.includes('buildgate agent is up'), 20000);
    const buildId = await createShellBuild(gw, 'left-alone', sleepyScript(marker));
    const [ended, canceled] = [await startRun(gw, buildId), await startRun(gw, buildId)];
    const RUN = 'query($id: ID!) { run(id: $id) { state errorMessage } }';
    const run = async (id: string) => (await gw.gql<{ run: { state: string; errorMessage: string | null } }, { id: string }>(RUN, { id })).data!.run;
    await waitUntil(async () => processesWith(`sleep ${marker}`).length, (n) => n === 6, 20000); // both runs' three sleeps
    expect(filesUnder(path.join(workDir, '.tmp')).filter((f) => f.endsWith('script')).length).toBe(2);
    cli.kill('SIGKILL'); // the agent only: its steps' process groups live on
    await new Promise((r) => cli.once('exit', r));

    const t0 = Date.now();
    const c = await gw.gql<{ cancelRun: { run: { state: string } } }, { id: string }>('mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { state } } }', { id: canceled });
    expect(c.errors).toBeUndefined();
    expect(c.data!.cancelRun.run.state).toBe('CANCELED');
    expect(Date.now() - t0).toBeLessThan(5000); // its heartbeat runs out within agentStallMs

    const end = await waitUntil(() => run(ended), (r) => r.state !== 'RUNNING', 10000);
    expect(end.state).toBe('ERROR');
    expect(end.errorMessage).toContain('build agent running it stopped');
    const log = await followLog(gw.ws(), { runId: ended });
    expect(log.completed).toBe(true);
    expect(log.seqs).toEqual(Array.from({ length: log.seqs.length }, (_v, i) => i + 1));
    expect(log.batches.flatMap((b) => b.lines.map((l) => l.text)).at(-1)).toContain('build agent running it stopped');

    expect(processesWith(`sleep ${marker}`).length).toBe(6); // nothing on this machine ended them yet
    const config = parseConfig({ database: { url: dbUrl }, redis: { url: REDIS_URL }, engine: { workDir, agentStallMs: 2000 }, log: { level: 'silent' } });
    next = await startAgent(config, { buildServerHosts: ['elsewhere'], logger: pino({ level: 'silent' }) });
    await waitUntil(async () => processesWith(`sleep ${marker}`), (p) => p.length === 0, 5000);
    expect(filesUnder(path.join(workDir, '.tmp'))).toEqual([]);
  }, 60_000);
});
