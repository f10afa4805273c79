import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type FormattedExecutionResult as ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import pino from 'pino';
import WebSocket from 'ws';
import { parseConfig, type ConfigInput } from '../../src/config/index.js';
import type { Provider } from '../../src/providers/types.js';
import { startServer, type RunningServer } from '../../src/server/index.js';

export const PG_URL = process.env.BUILDGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestGateway {
  server: RunningServer;
  url: string;
  /** The PostgreSQL schema in use (postgres only): pass it as `pgSchema` to start a second replica on the same store. */
  pgSchema?: string;
  /** Runs a typed operation over HTTP POST; returns the parsed GraphQL result. */
  gql<R, V>(doc: TypedDocumentNode<R, V> | string, variables?: V, headers?: Record<string, string>): Promise<ExecutionResult<R> & { status: number }>;
  /** A graphql-ws client on the same URL. */
  ws(connectionParams?: Record<string, unknown>): Client;
  close(): Promise<void>;
}

/**
 * Starts a real gateway on a free port with its own store: a fresh SQLite file, or a
 * fresh PostgreSQL schema when `database: 'postgres'`.
 */
export async function startGateway(opts: { database?: 'sqlite' | 'postgres'; config?: ConfigInput; extraProviders?: Provider[]; pgSchema?: string } = {}): Promise<TestGateway> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-test-'));
  let pgSchema: string | undefined;
  let dbUrl = `sqlite:${path.join(dir, 'buildgate.db')}`;
  // An existing schema (another replica's) is shared, not created, and left for its owner to drop.
  const ownsSchema = !opts.pgSchema;
  if (opts.pgSchema) {
    pgSchema = opts.pgSchema;
    dbUrl = PG_URL;
  } else if (opts.database === 'postgres') {
    pgSchema = `bg_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`create schema ${pgSchema}`);
    await c.end();
    dbUrl = PG_URL;
  }
  const base = opts.config ?? {};
  const config = parseConfig({
    ...base,
    server: { port: 0, ...(base.server ?? {}) },
    database: { url: dbUrl },
    log: { level: 'silent', ...(base.log ?? {}) },
    demo: { seed: false, ...(base.demo ?? {}) },
    // Functional suites act without credentials; test/security opts into the strict settings.
    auth: { anonymous: 'admin', ...(base.auth ?? {}) },
    limits: { mutationsPerMinute: 0, wsConnectsPerMinute: 0, ...(base.limits ?? {}) },
    engine: { workDir: path.join(dir, 'workspaces'), ...(base.engine ?? {}) },
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }), extraProviders: opts.extraProviders, pgSchema });
  const url = server.url;
  const clients: Client[] = [];
  return {
    server,
    url,
    pgSchema,
    async gql(doc, variables, headers = {}) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
        body: JSON.stringify({ query: typeof doc === 'string' ? doc : print(doc), variables }),
      });
      const body = (await res.json()) as ExecutionResult<any>;
      return { ...body, status: res.status };
    },
    ws(connectionParams) {
      const c = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
      clients.push(c);
      return c;
    },
    async close() {
      await Promise.all(clients.map((c) => c.dispose()));
      await server.close();
      if (pgSchema && ownsSchema) {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`drop schema if exists ${pgSchema} cascade`);
        await c.end();
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Collects `n` events of a subscription (or until it completes), failing after `timeoutMs`. */
export function collect<T>(client: Client, query: string, variables: Record<string, unknown>, n: number, timeoutMs = 10000): { events: Promise<ExecutionResult<T>[]>; ready: Promise<void>; received: readonly ExecutionResult<T>[] } {
  const out: ExecutionResult<T>[] = [];
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => { readyResolve = r; });
  const events = new Promise<ExecutionResult<T>[]>((resolve, reject) => {
    const timer = setTimeout(() => { dispose(); reject(new Error(`timed out with ${out.length}/${n} events`)); }, timeoutMs);
    const dispose = client.subscribe<T>({ query, variables }, {
      next: (v) => { out.push(v as ExecutionResult<T>); if (out.length >= n) { clearTimeout(timer); dispose(); resolve(out); } },
      error: (e) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(JSON.stringify(e))); },
      complete: () => { clearTimeout(timer); resolve(out); },
    });
    // graphql-ws subscribes once connected; a short grace lets the server register the topic.
    client.on('connected', () => setTimeout(readyResolve, 100));
  });
  // `received`: the events so far, for tests that wait on a condition instead of a fixed time.
  return { events, ready, received: out };
}
