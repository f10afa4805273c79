import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { createShellBuild, followLog, range, startRun, storedEnd } from './follow.js';

/**
 * Subscribers that reconnect (resume with afterSeq) while a run prints 60,000 lines as fast
 * as it can: each must catch up and follow to the end. The run writes faster than a resumed
 * subscriber is served, so its live buffer overflows (small here, to make that certain): it
 * catches up from storage instead of being cut with fellBehind, since it never stops reading.
 */
describe('resuming during a burst', () => {
  let gw: TestGateway;
  const clients: Client[] = [];
  beforeAll(async () => {
    gw = await startGateway({ config: { live: { maxBufferedLines: 5000 } } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await gw?.close();
  });

  it('every reconnecting subscriber gets every line exactly once, none fellBehind', async () => {
    const runId = await startRun(gw, await createShellBuild(gw, 'burst', 'seq 1 60000'));
    const follower = async (n: number) => {
      // Resubscribing on the same socket (a page reconnecting its log view): the server side of
      // a resume is the same, and this test's own process, busy serving the burst, need not
      // also open 40 sockets within graphql-ws's connection-init timeout. Not lazy: the socket stays
      // open until dispose() (a lazyCloseTimeout would leave its timer running after dispose(),
      // holding the worker open).
      const client = createClient({ url: gw.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
      clients.push(client);
      const seqs: number[] = [];
      let behind = 0;
      let after = 0;
      for (let i = 0; i < 5; i++) {
        // Leave after some thousands of lines, at a different point for each subscriber and reconnect.
        const want = 2000 + ((n * 7919 + i * 104729) % 6000);
        const part = await followLog(client, { runId, afterSeq: after }, { stopWhen: (f) => f.seqs.length >= want, timeoutMs: 60000 });
        seqs.push(...part.seqs);
        behind += part.batches.filter((b) => b.fellBehind).length;
        if (part.seqs.length) after = part.seqs.at(-1)!;
        if (part.completed) break;
      }
      const rest = await followLog(client, { runId, afterSeq: after }, { timeoutMs: 60000 });
      seqs.push(...rest.seqs);
      behind += rest.batches.filter((b) => b.fellBehind).length;
      return { seqs, behind, completed: rest.completed };
    };
    const results = await Promise.all(range(4).map(follower));
    const end = await storedEnd(gw, runId);
    expect(end.state).toBe('DONE');
    for (const r of results) {
      expect(r.behind).toBe(0);
      expect(r.completed).toBe(true);
      expect(r.seqs.length).toBe(end.lastSeq);
      expect(r.seqs).toEqual(range(end.lastSeq));
    }
  }, 120_000);
});
