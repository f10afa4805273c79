import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { print } from 'graphql';
import {
  BuildRunsUpdatedDocument, RunUpdatedDocument, StepUpdatedDocument,
  type BuildRunsUpdatedSubscription, type RunUpdatedSubscription, type StepUpdatedSubscription,
} from '../generated/graphql.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { createShellBuild, followAll, startRun, storedEnd, waitUntil } from './follow.js';

describe('runUpdated, stepUpdated, buildRunsUpdated', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startGateway({ config: { engine: { maxConcurrentRuns: 1 } } }); });
  afterAll(async () => { await gw?.close(); });

  it('runUpdated: current state first, then each change; completes after the final state', async () => {
    // A blocker keeps the next run QUEUED, so the subscriber subscribes into QUEUED.
    const blocker = await startRun(gw, await createShellBuild(gw, 'blocker', 'sleep 0.6'));
    const buildId = await createShellBuild(gw, 'states', 'echo hi; sleep 0.3; exit 3');
    const runId = await startRun(gw, buildId);
    const r = await followAll<RunUpdatedSubscription>(gw.ws(), print(RunUpdatedDocument), { runId });
    expect(r.completed).toBe(true);
    const states = r.data.map((d) => d.runUpdated.state);
    expect(states).toEqual(['QUEUED', 'RUNNING', 'ERROR']);
    const last = r.data.at(-1)!.runUpdated;
    expect(last.errorMessage).toMatch(/step 1 \(SHELL\) failed/);
    expect(last.finishedAt).toBeTruthy();
    expect(last.possibleActions).toContain('BUILD');
    // Subscribing to a finished run: its state, then completion.
    const done = await followAll<RunUpdatedSubscription>(gw.ws(), print(RunUpdatedDocument), { runId });
    expect(done.data.map((d) => d.runUpdated.state)).toEqual(['ERROR']);
    expect(done.completed).toBe(true);
    await waitUntil(() => storedEnd(gw, blocker), (e) => e.state === 'DONE');
  });

  it('stepUpdated: every step as it is, then changes; completes when the run has ended', async () => {
    const b = await gw.gql<{ createBuild: { build: { id: string } } }, unknown>(`mutation { createBuild(input: { build: { name: "steps", steps: [
      { stepOrder: 1, stepType: SHELL, shell: { command: "sleep 0.3" } },
      { stepOrder: 2, stepType: SHELL, useFlag: false, shell: { command: "true" } },
      { stepOrder: 3, stepType: SHELL, shell: { command: "sleep 0.2" } } ] } }) { build { id } } }`);
    expect(b.errors).toBeUndefined();
    const runId = await startRun(gw, b.data!.createBuild.build!.id);
    const r = await followAll<StepUpdatedSubscription>(gw.ws(), print(StepUpdatedDocument), { runId });
    expect(r.completed).toBe(true);
    const byOrder = new Map<number, string[]>();
    for (const d of r.data) byOrder.set(d.stepUpdated.stepOrder, [...(byOrder.get(d.stepUpdated.stepOrder) ?? []), d.stepUpdated.state]);
    expect(byOrder.get(1)!.at(-1)).toBe('DONE');
    expect(byOrder.get(2)).toEqual(['SKIPPED']);
    expect(byOrder.get(3)!.slice(-2)).toEqual(['RUNNING', 'DONE']);
    // States only move forward for each step.
    const rank: Record<string, number> = { WAIT: 0, RUNNING: 1, DONE: 2, SKIPPED: 2, ERROR: 2, CANCELED: 2 };
    for (const seq of byOrder.values()) expect(seq.map((s) => rank[s])).toEqual([...seq.map((s) => rank[s]!)].sort());
  });

  it('buildRunsUpdated: new runs and their changes, by build and by provider; bad arguments refused', async () => {
    const buildId = await createShellBuild(gw, 'listed', 'true');
    const byBuild: BuildRunsUpdatedSubscription[] = [];
    const byProvider: BuildRunsUpdatedSubscription[] = [];
    const c = gw.ws();
    const d1 = c.subscribe<BuildRunsUpdatedSubscription>({ query: print(BuildRunsUpdatedDocument), variables: { buildId } }, { next: (v) => { if (v.data) byBuild.push(v.data); }, error: () => undefined, complete: () => undefined });
    const d2 = c.subscribe<BuildRunsUpdatedSubscription>({ query: print(BuildRunsUpdatedDocument), variables: { providerId: 'native' } }, { next: (v) => { if (v.data) byProvider.push(v.data); }, error: () => undefined, complete: () => undefined });
    await new Promise((r) => setTimeout(r, 300));
    const other = await createShellBuild(gw, 'other', 'true');
    const runId = await startRun(gw, buildId);
    const otherRun = await startRun(gw, other);
    await waitUntil(async () => byBuild.map((e) => e.buildRunsUpdated.state), (s) => s.includes('DONE'));
    await waitUntil(async () => byProvider.filter((e) => e.buildRunsUpdated.id === otherRun).map((e) => e.buildRunsUpdated.state), (s) => s.includes('DONE'));
    d1(); d2();
    expect(byBuild.map((e) => e.buildRunsUpdated.id)).toEqual(byBuild.map(() => runId));
    expect(byBuild.map((e) => e.buildRunsUpdated.state)).toEqual(['QUEUED', 'RUNNING', 'DONE']);
    expect(byBuild[0]!.buildRunsUpdated.build!.name).toBe('listed');
    const bad = await followAll(gw.ws(), print(BuildRunsUpdatedDocument), {});
    expect(bad.errors[0]!.extensions!.code).toBe('BAD_USER_INPUT');
    const missing = await followAll(gw.ws(), print(BuildRunsUpdatedDocument), { buildId: Buffer.from('bg1|native|Build|424242').toString('base64url') });
    expect(missing.errors[0]!.extensions!.code).toBe('NOT_FOUND');
    const mismatch = await followAll(gw.ws(), print(BuildRunsUpdatedDocument), { buildId, providerId: 'other' });
    expect(mismatch.errors[0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });
});
