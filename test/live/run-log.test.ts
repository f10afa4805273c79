import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { print } from 'graphql';
import { RunLogDocument } from '../generated/graphql.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { createShellBuild, followLog, range, sleep, startRun, storedEnd, waitUntil } from './follow.js';

/** ~10,000 lines over ~2 s in 25 bursts, so subscribers can join mid-stream. */
const BURSTS = 'for b in $(seq 1 25); do seq 1 400 | sed "s/^/burst $b line /"; sleep 0.08; done';

describe('runLog: replay, then live, exactly once', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startGateway(); });
  afterAll(async () => { await gw?.close(); });

  it('every subscriber, whenever it joins, sees seq 1..N once, in order, then completes at the run end', async () => {
    const buildId = await createShellBuild(gw, 'bursts', BURSTS);
    const runId = await startRun(gw, buildId);
    const joins = [0, 300, 700, 1200, 1800];
    const followers = joins.map(async (ms) => { await sleep(ms); return followLog(gw.ws(), { runId }); });
    const results = await Promise.all(followers);
    const end = await storedEnd(gw, runId);
    expect(end.state).toBe('DONE');
    expect(end.lastSeq).toBeGreaterThan(10_000);
    for (const r of results) {
      expect(r.completed).toBe(true);
      expect(r.errors).toEqual([]);
      expect(r.seqs.length).toBe(end.lastSeq);
      expect(r.seqs).toEqual(range(end.lastSeq));
      expect(r.batches.every((b) => !b.fellBehind)).toBe(true);
      expect(r.batches.at(-1)!.lastSeq).toBe(end.lastSeq);
    }
    // Joining after the end: replay, then complete.
    const late = await followLog(gw.ws(), { runId });
    expect(late.completed).toBe(true);
    expect(late.seqs).toEqual(range(end.lastSeq));
    // A subscriber that joined mid-stream got stored lines first, then live ones: some event mixes neither order nor gaps.
    expect(results[3]!.batches.length).toBeGreaterThan(2);
  });

  it('resumes after a disconnect with afterSeq: no gap, no duplicate', async () => {
    const buildId = await createShellBuild(gw, 'resume', BURSTS);
    const runId = await startRun(gw, buildId);
    const seen: number[] = [];
    let afterSeq = 0;
    // Three disconnects mid-stream, each resuming from the last lastSeq received.
    for (const stopAt of [1500, 4000, 7000]) {
      const part = await followLog(gw.ws(), { runId, afterSeq }, { stopWhen: (f) => f.seqs.length > 0 && f.seqs.at(-1)! >= afterSeq + stopAt - seen.length });
      seen.push(...part.seqs);
      afterSeq = part.batches.at(-1)!.lastSeq;
      expect(part.completed).toBe(false);
    }
    const rest = await followLog(gw.ws(), { runId, afterSeq });
    expect(rest.completed).toBe(true);
    seen.push(...rest.seqs);
    const end = await storedEnd(gw, runId);
    expect(seen).toEqual(range(end.lastSeq));
  });

  it('one step only; afterSeq past the end of a finished run completes with nothing', async () => {
    const buildId = await createShellBuild(gw, 'short', 'echo a; echo b; echo c');
    const runId = await startRun(gw, buildId);
    await waitUntil(() => storedEnd(gw, runId), (e) => e.state === 'DONE');
    const steps = await gw.gql<{ run: { steps: Array<{ id: string }> } }, { id: string }>('query($id: ID!) { run(id: $id) { steps { id } } }', { id: runId });
    const stepRunId = steps.data!.run!.steps[0]!.id;
    const one = await followLog(gw.ws(), { runId, stepRunId });
    expect(one.completed).toBe(true);
    const out = one.batches.flatMap((b) => b.lines).filter((l) => l.source === 'STDOUT').map((l) => l.text);
    expect(out).toEqual(['a', 'b', 'c']);
    expect(one.batches.flatMap((b) => b.lines).every((l) => l.stepRunId === stepRunId)).toBe(true);
    const past = await followLog(gw.ws(), { runId, afterSeq: 1e6 });
    expect(past).toMatchObject({ completed: true, seqs: [] });
  });

  it('afterSeq past the end of a running run streams the live lines', async () => {
    const buildId = await createShellBuild(gw, 'live-only', 'echo first; sleep 0.5; echo second; echo third');
    const runId = await startRun(gw, buildId);
    await waitUntil(() => gw.gql<{ run: { log: { lines: Array<{ text: string }> } } }, { id: string }>('query($id: ID!) { run(id: $id) { log { lines { text } } } }', { id: runId }),
      (r) => !!r.data?.run.log.lines.some((l) => l.text === 'first'), 10000);
    const before = await storedEnd(gw, runId);
    const live = await followLog(gw.ws(), { runId, afterSeq: 1e9 });
    expect(live.completed).toBe(true);
    const texts = live.batches.flatMap((b) => b.lines.map((l) => l.text));
    expect(texts).toEqual(expect.arrayContaining(['second', 'third']));
    expect(live.seqs[0]).toBeGreaterThan(before.lastSeq);
    expect(live.seqs).toEqual(range(live.seqs.at(-1)!, live.seqs[0]));
  });

  it('refuses bad IDs with stable codes and keeps the connection usable', async () => {
    const client = gw.ws();
    const malformed = await followLog(client, { runId: 'not an id' });
    expect(malformed.errors[0]!.extensions!.code).toBe('BAD_USER_INPUT');
    const buildId = await createShellBuild(gw, 'ids', 'true');
    const wrongType = await followLog(client, { runId: buildId });
    expect(wrongType.errors[0]!.extensions!.code).toBe('BAD_USER_INPUT');
    const unknownRun = await followLog(client, { runId: Buffer.from('bg1|native|BuildRun|999999').toString('base64url') });
    expect(unknownRun.errors[0]!.extensions!.code).toBe('NOT_FOUND');
    const unknownProvider = await followLog(client, { runId: Buffer.from('bg1|nope|BuildRun|1').toString('base64url') });
    expect(unknownProvider.errors[0]!.extensions!.code).toBe('NOT_FOUND');
    const badSeq = await followLog(client, { runId: Buffer.from('bg1|native|BuildRun|1').toString('base64url'), afterSeq: -3 });
    expect(badSeq.errors[0]!.extensions!.code).toBe('BAD_USER_INPUT');
    // A variable that does not coerce: BAD_USER_INPUT as over HTTP, its value not echoed back.
    const uncoerced = await followLog(client, { runId: buildId, afterSeq: 'pw-Hunter2-xyz' as unknown as number });
    expect(uncoerced.errors[0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(uncoerced.errors[0]!.message).toContain('$afterSeq');
    expect(JSON.stringify(uncoerced.errors)).not.toContain('Hunter2');
    // Same client, same socket: a valid subscription still works.
    const runId = await startRun(gw, buildId);
    const ok = await followLog(client, { runId });
    expect(ok.completed).toBe(true);
    expect(ok.seqs.length).toBeGreaterThan(0);
    expect(print(RunLogDocument)).toContain('fellBehind');
    // Nothing left behind: every feed was released.
    await waitUntil(async () => gw.server.services.live.feeds.stats(), (s) => s.feeds === 0, 5000);
  });
});

describe('runLog: a stored batch larger than a page', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startGateway({ config: { live: { pageLines: 100 } } }); });
  afterAll(async () => { await gw?.close(); });

  it('reaches live subscribers in events of at most live.pageLines lines, each line once, in order', async () => {
    // 5,000 lines at once: the log writer stores them in batches of thousands.
    const buildId = await createShellBuild(gw, 'burst', 'sleep 0.5; seq 1 5000');
    const runId = await startRun(gw, buildId);
    const results = await Promise.all(Array.from({ length: 4 }, () => followLog(gw.ws(), { runId })));
    const end = await storedEnd(gw, runId);
    expect(end.state).toBe('DONE');
    expect(end.lastSeq).toBeGreaterThanOrEqual(5000);
    for (const r of results) {
      expect(r.completed).toBe(true);
      expect(r.seqs).toEqual(range(end.lastSeq));
      expect(Math.max(...r.batches.map((b) => b.lines.length))).toBeLessThanOrEqual(100);
    }
  });
});
