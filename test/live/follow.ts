import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { CreateBuildDocument, RunLogDocument, type BuildInput, type RunLogSubscription } from '../generated/graphql.js';
import type { TestGateway } from '../support/gateway.js';

export type Batch = RunLogSubscription['runLog'];
export interface Followed { batches: Batch[]; seqs: number[]; completed: boolean; errors: Array<{ message: string; extensions?: Record<string, unknown> }> }

/**
 * Follows a runLog subscription until it completes (or `stopWhen` says so, which
 * unsubscribes: a client going away mid-stream). Rejects after `timeoutMs`.
 */
export function followLog(client: Client, vars: { runId: string; stepRunId?: string | null; afterSeq?: number | null },
  opts: { stopWhen?: (f: Followed) => boolean; timeoutMs?: number } = {}): Promise<Followed> {
  const f: Followed = { batches: [], seqs: [], completed: false, errors: [] };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { dispose(); reject(new Error(`runLog timed out after ${f.seqs.length} lines (last ${f.seqs.at(-1)})`)); }, opts.timeoutMs ?? 30000);
    const dispose = client.subscribe<RunLogSubscription>({ query: print(RunLogDocument), variables: vars }, {
      next: (v) => {
        if (v.errors) f.errors.push(...(v.errors as Followed['errors']));
        if (!v.data) return;
        f.batches.push(v.data.runLog);
        for (const l of v.data.runLog.lines) f.seqs.push(l.seq);
        if (opts.stopWhen?.(f)) { clearTimeout(timer); dispose(); resolve(f); }
      },
      error: (e) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error((e as { code?: number }).code ? `socket closed: ${(e as { code: number; reason: string }).code} ${(e as { reason: string }).reason}` : JSON.stringify(e))); },
      complete: () => { clearTimeout(timer); f.completed = true; resolve(f); },
    });
  });
}

/** Generic subscription follower: every `data` until completion. */
export function followAll<T>(client: Client, query: string, variables: Record<string, unknown>, timeoutMs = 30000): Promise<{ data: T[]; errors: Followed['errors']; completed: boolean }> {
  const out = { data: [] as T[], errors: [] as Followed['errors'], completed: false };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { dispose(); reject(new Error(`timed out after ${out.data.length} events`)); }, timeoutMs);
    const dispose = client.subscribe<T>({ query, variables }, {
      next: (v) => { if (v.errors) out.errors.push(...(v.errors as Followed['errors'])); if (v.data) out.data.push(v.data as T); },
      error: (e) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(JSON.stringify(e))); },
      complete: () => { clearTimeout(timer); out.completed = true; resolve(out); },
    });
  });
}

/** A graphql-ws client whose socket the test can pause (a subscriber that stops reading). */
export function pausableClient(url: string): { client: Client; socket: () => WebSocket } {
  let sock: WebSocket | null = null;
  class Capturing extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      sock = this;
    }
  }
  const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: Capturing, retryAttempts: 0, lazy: true });
  return { client, socket: () => sock! };
}

export const RUN = 'mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id state } } }';
export const LAST_SEQ = 'query($id: ID!) { run(id: $id) { state log(tail: true, first: 1) { lastSeq } } }';

export async function createShellBuild(gw: TestGateway, name: string, command: string): Promise<string> {
  const input: BuildInput = { name, steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { command } }] };
  const r = await gw.gql(CreateBuildDocument, { build: input });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.createBuild.build!.id;
}

export async function startRun(gw: TestGateway, buildId: string): Promise<string> {
  const r = await gw.gql<{ runBuild: { run: { id: string } } }, { id: string }>(RUN, { id: buildId });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.runBuild.run.id;
}

export async function storedEnd(gw: TestGateway, runId: string): Promise<{ state: string; lastSeq: number }> {
  const r = await gw.gql<{ run: { state: string; log: { lastSeq: number } } }, { id: string }>(LAST_SEQ, { id: runId });
  return { state: r.data!.run!.state, lastSeq: r.data!.run!.log.lastSeq };
}

export async function waitUntil<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met: ${JSON.stringify(v).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** 1..n */
export const range = (n: number, from = 1) => Array.from({ length: n - from + 1 }, (_v, i) => from + i);
