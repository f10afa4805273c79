import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { createShellBuild, followLog, pausableClient, range, startRun, storedEnd, waitUntil } from './follow.js';

/**
 * 60,000 lines of 400 characters (~24 MB, more than the loopback socket buffers and the 8 MB
 * socket allowance hold), paced at ~20,000 lines/s so that a reading subscriber keeps up.
 * The flood starts only once the file named by $1 exists: the test first sees both
 * subscribers receive the run's first line and pauses the slow one, so that it is subscribed
 * and paused before the flood, however loaded the machine (no sleeps to guess that).
 */
const flood = (go: string) => `echo waiting; while [ ! -e ${go} ]; do sleep 0.02; done; ` +
  'L=$(head -c 400 /dev/zero | tr "\\0" x); for i in $(seq 1 60); do yes "$L" | head -n 1000; sleep 0.05; done';

describe('a subscriber that stops reading', () => {
  let gw: TestGateway;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-slow-'));
  beforeAll(async () => {
    gw = await startGateway({ config: { live: { maxBufferedLines: 8000, stalledClientMs: 1000 } } }); // above the log writer's largest batch (4096)
  });
  afterAll(async () => { await gw?.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('slows neither the run nor other subscribers, and ends with fellBehind and the seq to resume after', async () => {
    const go = path.join(dir, 'go');
    const buildId = await createShellBuild(gw, 'flood', flood(go));
    const slow = pausableClient(gw.url);
    const runId = await startRun(gw, buildId);
    let slowLines = 0;
    let fastLines = 0;
    const slowDone = followLog(slow.client, { runId }, { timeoutMs: 120000, stopWhen: (f) => { slowLines = f.seqs.length; return false; } });
    const fast = followLog(gw.ws(), { runId }, { timeoutMs: 120000, stopWhen: (f) => { fastLines = f.seqs.length; return false; } });
    await waitUntil(async () => [slowLines, fastLines], ([s, f]) => s > 0 && f > 0, 30000);
    const feeds = gw.server.services.live.feeds;
    const both = feeds.stats().subscribers;
    slow.socket().pause();
    fs.writeFileSync(go, '');
    // The slow subscriber's buffer overflows: the server releases its feed share while it is
    // paused. It resumes then, not later: the websocket keep-alive drops a socket that does
    // not answer pings for 12-24 s, and under load the whole run can take longer than that.
    await waitUntil(async () => feeds.stats(), (st) => st.subscribers < both, 60000);
    expect(slow.socket().isPaused).toBe(true);
    slow.socket().resume();

    // The run ends and the fast subscriber gets everything.
    const fastResult = await fast;
    const end = await storedEnd(gw, runId);
    expect(end.state).toBe('DONE');
    expect(fastResult.completed).toBe(true);
    expect(fastResult.seqs).toEqual(range(end.lastSeq));
    expect(fastResult.batches.some((b) => b.fellBehind)).toBe(false);

    const r = await slowDone;
    expect(r.completed).toBe(true);
    const last = r.batches.at(-1)!;
    expect(last.fellBehind).toBe(true);
    expect(last.lines).toEqual([]);
    expect(last.lastSeq).toBeLessThan(end.lastSeq);
    // What it got is exactly 1..lastSeq; resuming from there gives the rest, exactly once.
    expect(r.seqs).toEqual(range(last.lastSeq));
    const rest = await followLog(slow.client, { runId, afterSeq: last.lastSeq }, { timeoutMs: 60000 });
    expect(rest.completed).toBe(true);
    expect([...r.seqs, ...rest.seqs]).toEqual(range(end.lastSeq));
    await slow.client.dispose();
  });
});
