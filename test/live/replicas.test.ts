import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { print } from 'graphql';
import { RunUpdatedDocument, type RunUpdatedSubscription } from '../generated/graphql.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { createShellBuild, followAll, followLog, range, sleep, startRun, storedEnd } from './follow.js';

const REDIS_URL = process.env.BUILDGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BURSTS = 'for b in $(seq 1 20); do seq 1 400 | sed "s/^/burst $b line /"; sleep 0.08; done';

describe('two gateway replicas sharing one PostgreSQL store and one Redis', () => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    a = await startGateway({ database: 'postgres' });
    b = await startGateway({ pgSchema: a.pgSchema });
    // Channels unique to this pair: other gateways on the same Redis must not hear them.
    const prefix = `buildgate-test:${a.pgSchema}:`;
    await a.server.services.live.useRedis(REDIS_URL, prefix);
    await b.server.services.live.useRedis(REDIS_URL, prefix);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await b?.server.services.live.close();
    await a?.server.services.live.close();
  });

  it('a subscriber on replica B sees every line of a run executing on A, resume included', async () => {
    const buildId = await createShellBuild(a, 'replicated', BURSTS);
    const runId = await startRun(a, buildId);
    const onB = followLog(b.ws(), { runId });
    const state = followAll<RunUpdatedSubscription>(b.ws(), print(RunUpdatedDocument), { runId });
    // Another client on B drops mid-stream and resumes, once on B and once on A.
    await sleep(400);
    const part1 = await followLog(b.ws(), { runId }, { stopWhen: (f) => f.seqs.length >= 2000 });
    const part2 = await followLog(a.ws(), { runId, afterSeq: part1.batches.at(-1)!.lastSeq }, { stopWhen: (f) => f.seqs.length >= 2000 });
    const part3 = await followLog(b.ws(), { runId, afterSeq: part2.batches.at(-1)!.lastSeq });
    const full = await onB;
    const end = await storedEnd(b, runId);
    expect(end.state).toBe('DONE');
    expect(end.lastSeq).toBeGreaterThan(8000);
    expect(full.completed).toBe(true);
    expect(full.seqs).toEqual(range(end.lastSeq));
    expect(part3.completed).toBe(true);
    expect([...part1.seqs, ...part2.seqs, ...part3.seqs]).toEqual(range(end.lastSeq));
    const s = await state;
    expect(s.completed).toBe(true);
    expect(s.data.at(-1)!.runUpdated.state).toBe('DONE');
  });
});
