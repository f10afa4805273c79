import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateBuildDocument, RunPageDocument, type BuildInput } from '../generated/graphql.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

const RUN = `mutation($id: ID!, $tag: String, $cb: String) { runBuild(input: { buildId: $id, tagName: $tag, callbackUrl: $cb }) { run { id buildNo state tagName possibleActions } } }`;
const CANCEL = `mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { id state } errors { code } } }`;
const REMOVE = `mutation($id: ID!) { removeRun(input: { runId: $id }) { removedRunId } }`;

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met: ${JSON.stringify(v).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(['sqlite', 'postgres'] as const)('native runs through GraphQL (%s)', (database) => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startGateway({ database, config: { engine: { maxConcurrentRuns: 1, allowPrivateHosts: ['127.0.0.1'], callback: { initialDelayMs: 200 } } } }); });
  afterAll(async () => { await gw?.close(); });

  const create = async (input: BuildInput) => {
    const r = await gw.gql(CreateBuildDocument, { build: input });
    expect(r.errors).toBeUndefined();
    return r.data!.createBuild.build!;
  };
  const page = (id: string) => gw.gql(RunPageDocument, { id, logLines: 1000 });

  it('runs SHELL steps in order, numbers log lines, masks secrets, skips disabled and later steps after a failure', async () => {
    const b = await create({
      name: 'shell-run', autotag: { enabled: true, prefix: 'v', seqType: 'SEQUENCE' },
      steps: [
        { stepOrder: 1, stepType: 'SHELL', shell: { command: 'echo one; echo two >&2; echo three' } },
        { stepOrder: 2, stepType: 'SHELL', useFlag: false, shell: { command: 'echo never' } },
        { stepOrder: 3, stepType: 'HTTP', http: { url: 'http://127.0.0.1:1/', httpMode: 'GET', timeout: 1, customHeaders: [{ name: 'Authorization', value: 'Bearer SHOULD-NOT-LEAK' }] } },
        { stepOrder: 4, stepType: 'SHELL', shell: { command: 'echo after' } },
      ],
    });
    const started = await gw.gql(RUN, { id: b.id });
    expect(started.errors).toBeUndefined();
    const run = (started.data as any).runBuild.run;
    expect(run.buildNo).toBe(1);
    expect(run.tagName).toBe('v00001');
    const done = await waitFor(() => page(run.id), (r) => ['DONE', 'ERROR'].includes(r.data?.run?.state ?? ''));
    const rp = done.data!.run!;
    expect(rp.state).toBe('ERROR');
    expect(rp.steps.map((s) => s.state)).toEqual(['DONE', 'SKIPPED', 'ERROR', 'SKIPPED']);
    expect(rp.errorMessage).toMatch(/step 3 \(HTTP\) failed/);
    expect(rp.steps[0]!.startedAt).toBeTruthy();
    const lines = rp.log.lines;
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_l, i) => i + 1));
    expect(lines.filter((l) => l.source !== 'SYSTEM').map((l) => [l.source, l.text])).toEqual(
      expect.arrayContaining([['STDOUT', 'one'], ['STDERR', 'two'], ['STDOUT', 'three']]));
    expect(JSON.stringify(done)).not.toContain('SHOULD-NOT-LEAK');
    expect(rp.possibleActions).toEqual(['VIEW', 'BUILD', 'LOG', 'REMOVE']);
    // The whole log as a text download, and one step's part of it.
    const base = gw.url.replace(/\/graphql$/, '');
    const txt = await (await fetch(base + rp.logUrl)).text();
    expect(txt.split('\n').slice(0, -1)).toEqual(lines.map((l) => l.text));
    const stepTxt = await (await fetch(`${base}${rp.logUrl}?step=${encodeURIComponent(rp.steps[0]!.id)}`)).text();
    for (const t of ['one', 'two', 'three']) expect(stepTxt.split('\n')).toContain(t); // stdout/stderr order across pipes is not fixed
    expect(stepTxt).not.toContain('run ended');
    expect((await fetch(`${base}/logs/garbage.txt`)).status).toBe(400);
    expect(rp.record!.trigger).toBe('API');

    const second = (await gw.gql(RUN, { id: b.id, tag: 'given' })).data as any;
    expect(second.runBuild.run.buildNo).toBe(2);
    expect(second.runBuild.run.tagName).toBe('given');
    await waitFor(() => page(second.runBuild.run.id), (r) => r.data?.run?.state === 'ERROR');
  });

  it('queues beyond the concurrency limit, cancels a running step (killing its tree) and a queued run, refuses impossible actions', async () => {
    const b = await create({ name: 'long', steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { command: 'echo start; sleep 30 & wait' } }, { stepOrder: 2, stepType: 'SHELL', shell: { command: 'echo no' } }] });
    const first = ((await gw.gql(RUN, { id: b.id })).data as any).runBuild.run;
    const second = ((await gw.gql(RUN, { id: b.id })).data as any).runBuild.run;
    await waitFor(() => page(first.id), (r) => r.data?.run?.steps[0]?.state === 'RUNNING');
    expect((await page(second.id)).data!.run!.state).toBe('QUEUED');
    const c2 = await gw.gql(CANCEL, { id: second.id });
    expect((c2.data as any).cancelRun.run.state).toBe('CANCELED');
    const c1 = await gw.gql(CANCEL, { id: first.id });
    expect((c1.data as any).cancelRun.run.state).toBe('CANCELED');
    const p1 = (await page(first.id)).data!.run!;
    expect(p1.steps.map((s) => s.state)).toEqual(['CANCELED', 'CANCELED']);
    const again = await gw.gql(CANCEL, { id: first.id });
    expect((again.data as any).cancelRun.run.state).toBe('CANCELED');
    // A finished run cannot be canceled; a removed one is gone.
    const r = await gw.gql(REMOVE, { id: first.id });
    expect(r.errors).toBeUndefined();
    expect((r.data as any).removeRun.removedRunId).toBe(first.id);
    expect((await page(first.id)).errors![0]!.extensions!.code).toBe('NOT_FOUND');
  });

  it('POSTs the run summary to the callback URL, retrying with backoff, and records the outcome', async () => {
    const received: any[] = [];
    let calls = 0;
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        calls++;
        if (calls <= 2) { res.statusCode = 503; res.end('busy'); return; }
        received.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const b = await create({ name: 'cb', steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { command: 'echo hi' } }] });
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const run = ((await gw.gql(RUN, { id: b.id, cb: url })).data as any).runBuild.run;
      const r = await waitFor(() => gw.gql(`query($id: ID!) { run(id: $id) { state details } }`, { id: run.id }),
        (x: any) => /^(DELIVERED|FAILED)/.test(x.data?.run.details?.callbackStatus ?? ''));
      expect((r.data as any).run.details.callbackStatus).toBe('DELIVERED 200 after 3 attempt(s)');
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ runState: 'DONE', buildNo: 1, buildName: 'cb' });
    } finally {
      receiver.close();
    }
  });

  it('refuses CANCEL on a finished run with ACTION_NOT_ALLOWED', async () => {
    const b = await create({ name: 'quick', steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { command: 'true' } }] });
    const run = ((await gw.gql(RUN, { id: b.id })).data as any).runBuild.run;
    await waitFor(() => page(run.id), (r) => r.data?.run?.state === 'DONE');
    const c = await gw.gql(CANCEL, { id: run.id });
    expect(c.errors).toBeUndefined();
    expect((c.data as any).cancelRun.run).toBeNull();
    expect((c.data as any).cancelRun.errors).toEqual([expect.objectContaining({ code: 'ACTION_NOT_ALLOWED' })]);
  });
});
