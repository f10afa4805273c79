/**
 * Upstream calls per BuildsList query (schema/operations/01-builds-list.graphql, with
 * `stats` and `lastRun`) over N builds per provider, against the fake upstreams, through
 * a real gateway over HTTP. Prints calls made vs the fewest each upstream API allows, then
 * the same query again within the cache TTL (expected: 0 calls).
 *
 *   npm run build:server && npx esbuild bench/upstream-calls.ts --platform=node --format=esm \
 *     --outfile=dist/bench/upstream-calls.js && node dist/bench/upstream-calls.js [N]
 *
 * test/api/upstreams.test.ts imports `measureUpstreamCalls` and checks the same figures.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { parseConfig } from '../src/config/index.js';
import { startDemoUpstreams, type DemoUpstreams } from '../src/demo/upstreams.js';
import { startServer } from '../src/server/index.js';

export interface CallRow {
  provider: string;
  builds: number;
  /** Upstream HTTP requests the first query caused. */
  calls: number;
  /** The fewest requests the upstream API allows for the same answer. */
  minimum: number;
  why: string;
  /** Requests when the same query is repeated within the cache TTL. */
  repeatCalls: number;
  /** GraphQL errors other than UNSUPPORTED_BY_PROVIDER (expected: none). */
  otherErrors: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
function buildsListQuery(): string {
  // From bench/ (sources) or dist/bench/ (compiled).
  for (const up of ['..', '../..']) {
    const f = path.join(here, up, 'schema', 'operations', '01-builds-list.graphql');
    if (fs.existsSync(f)) return fs.readFileSync(f, 'utf8');
  }
  throw new Error('schema/operations/01-builds-list.graphql not found');
}

const hex32 = (i: number) => `be${i.toString(16).padStart(30, '0')}`;

/** Grows every fake to `n` builds (each with one finished run where the fake can hold one). */
export function seedBuilds(demo: DemoUpstreams, n: number): void {
  const { cocktail, quay, zadig, codearts } = demo.fakes;
  const day = 86_400_000;
  for (let i = cocktail.state.builds.size; i < n; i++) {
    const b = cocktail.state.addBuild({ buildName: `bench-c-${String(i).padStart(3, '0')}`, imageName: 'bench', buildSteps: [] }, Date.now() - 10 * day);
    cocktail.state.addRun(b.buildSeq, { t0: Date.now() - day, tagName: `1.${i}` });
  }
  const repos = demo.instances.find((x) => x.kind === 'QUAY')!.options.repositories as unknown[];
  for (let i = quay.state.repos.size; i < n; i++) {
    const repo = `bench/repo-${String(i).padStart(3, '0')}`;
    quay.state.repos.set(repo, { description: `bench ${i}`, isPublic: true });
    quay.state.addBuild(repo, { t0: Date.now() - day, tags: [`1.${i}`] });
    repos.push(repo);
  }
  const template = zadig.builds[0]!;
  for (let i = zadig.builds.length; i < n; i++) {
    const svc = `bench-svc-${i}`;
    zadig.builds.push({ ...structuredClone(template), name: `bench-z-${String(i).padStart(3, '0')}`, target_services: [{ service_name: svc, service_module: svc }] });
  }
  for (let i = codearts.jobs.length; i < n; i++) {
    const id = hex32(i);
    (codearts.jobs as Array<{ id: string; job_name: string; job_creator: string; last_build_time: number }>).push({ id, job_name: `bench-a-${String(i).padStart(3, '0')}`, job_creator: 'bench', last_build_time: Date.now() - day });
    codearts.builds.push({ jobId: id, buildNo: 1, createdMs: Date.now() - day, stoppedMs: null, fails: false, log: 'bench\n' });
  }
}

/** Fewest upstream requests for one BuildsList page of n builds with stats and lastRun. */
const MINIMUM: Record<string, (n: number) => { n: number; why: string }> = {
  COCKTAIL: (n) => ({ n: 1 + n, why: 'build list (carries the stats) + runs of each build (no bulk run endpoint)' }),
  QUAY: (n) => ({ n: 2 * n, why: 'repository + latest build (`limit=1`) of each configured repository' }),
  ZADIG: () => ({ n: 2, why: 'one build page (pageSize ≤ 100) + one task page of the shared workflow' }),
  CODEARTS: (n) => ({ n: 1 + n, why: 'one job page (page_size ≤ 100) + history (`limit=1`) of each job' }),
};

export async function measureUpstreamCalls(n = 50, opts: { redisUrl?: string } = {}): Promise<CallRow[]> {
  const demo = await startDemoUpstreams({ pace: 'test', instance: { cacheTtlMs: 60_000, retries: 0 } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-bench-'));
  try {
    seedBuilds(demo, n);
    const config = parseConfig({
      server: { port: 0, playground: false }, database: { url: `sqlite:${path.join(dir, 'bench.db')}` }, log: { level: 'silent' },
      demo: { seed: false }, engine: { workDir: path.join(dir, 'ws') }, providers: demo.instances,
      ...(opts.redisUrl ? { redis: { url: opts.redisUrl } } : {}),
    });
    const server = await startServer(config, { logger: pino({ level: 'silent' }) });
    const query = buildsListQuery();
    const ask = async (providerId: string) => {
      const res = await fetch(server.url, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables: { providerIds: [providerId], first: n } }),
      });
      const body = (await res.json()) as { data?: { builds?: { edges: unknown[] } }; errors?: Array<{ extensions?: { code?: string } }> };
      return { rows: body.data?.builds?.edges.length ?? 0, otherErrors: (body.errors ?? []).filter((e) => e.extensions?.code !== 'UNSUPPORTED_BY_PROVIDER').length };
    };
    const rows: CallRow[] = [];
    try {
      for (const inst of demo.instances) {
        const fake = demo.fakes[inst.kind.toLowerCase() as keyof DemoUpstreams['fakes']].fake;
        fake.requests.length = 0;
        const first = await ask(inst.id);
        const calls = fake.requests.length;
        fake.requests.length = 0;
        const again = await ask(inst.id);
        const min = MINIMUM[inst.kind]!(n);
        rows.push({ provider: `${inst.id} (${inst.kind})`, builds: first.rows, calls, minimum: min.n, why: min.why, repeatCalls: fake.requests.length, otherErrors: first.otherErrors + again.otherErrors });
      }
    } finally {
      await server.close();
    }
    return rows;
  } finally {
    await demo.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export type Screen = 'BuildsList' | 'BuildDetail' | 'RunPage';
export interface ScreenRow {
  provider: string;
  kind: string;
  screen: Screen;
  /** Upstream requests of the screen with an empty cache, and each request as `METHOD path`. */
  cold: number;
  coldRequests: string[];
  /** Upstream requests of the same screen again within the cache TTL. */
  warm: number;
  warmRequests: string[];
  /** GraphQL errors other than UNSUPPORTED_BY_PROVIDER (expected: none). */
  otherErrors: string[];
}

function operationText(file: string): string {
  for (const up of ['..', '../..']) {
    const f = path.join(here, up, 'schema', 'operations', file);
    if (fs.existsSync(f)) return fs.readFileSync(f, 'utf8');
  }
  throw new Error(`schema/operations/${file} not found`);
}

/**
 * Upstream calls of each screen of FRONTEND.md (BuildsList `first: 20`, BuildDetail and
 * RunPage as in schema/operations/) per provider, against the fakes over HTTP: cold (a
 * gateway of its own, empty cache) and again within the cache TTL. The build is the
 * provider's first build in the list that has a run; the run is its latest. In-memory cache
 * (a gateway of its own per screen: cold means cold).
 */
export async function measureScreenCalls(opts: { providers?: string[] } = {}): Promise<ScreenRow[]> {
  const demo = await startDemoUpstreams({ pace: 'test', instance: { cacheTtlMs: 60_000, retries: 0 } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-screens-'));
  let gateways = 0;
  const gateway = async () => {
    gateways++;
    const config = parseConfig({
      server: { port: 0, playground: false }, database: { url: `sqlite:${path.join(dir, `g${gateways}.db`)}` }, log: { level: 'silent' },
      demo: { seed: false }, engine: { workDir: path.join(dir, `ws${gateways}`) }, providers: demo.instances, auth: { anonymous: 'operator' },
    });
    return startServer(config, { logger: pino({ level: 'silent' }) });
  };
  const post = async (url: string, query: string, variables: Record<string, unknown>) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  };
  const texts: Record<Screen, string> = { BuildsList: buildsListQuery(), BuildDetail: operationText('05-build-detail.graphql'), RunPage: operationText('04-run-page.graphql') };
  const rows: ScreenRow[] = [];
  try {
    for (const inst of demo.instances.filter((i) => !opts.providers || opts.providers.includes(i.id))) {
      const fake = demo.fakes[inst.kind.toLowerCase() as keyof DemoUpstreams['fakes']].fake;
      // Which build and run the screens show (on a gateway of its own, so the screens start cold).
      const finder = await gateway();
      let buildId: string;
      let runId: string;
      try {
        const list = await post(finder.url, 'query($p: [String!]) { builds(providerIds: $p, first: 100) { edges { node { id lastRun { id } } } } }', { p: [inst.id] });
        const hit = list.data?.builds?.edges.find((e: any) => e.node.lastRun);
        if (hit) {
          buildId = hit.node.id;
          runId = hit.node.lastRun.id;
        } else {
          // No run upstream yet (the fake Zadig starts with none): run the first build to its end.
          buildId = list.data?.builds?.edges[0]?.node.id;
          if (!buildId) throw new Error(`${inst.id}: no build (${JSON.stringify(list.errors ?? [])})`);
          const started = await post(finder.url, 'mutation($b: ID!) { runBuild(input: { buildId: $b }) { run { id } errors { code message } } }', { b: buildId });
          runId = started.data?.runBuild?.run?.id;
          if (!runId) throw new Error(`${inst.id}: runBuild failed (${JSON.stringify(started.errors ?? [])})`);
          for (let i = 0; i < 300; i++) {
            const r = await post(finder.url, 'query($id: ID!) { run(id: $id) { state } }', { id: runId });
            if (['DONE', 'ERROR', 'CANCELED'].includes(r.data?.run?.state)) break;
            await new Promise((res) => setTimeout(res, 100));
          }
        }
      } finally {
        await finder.close();
      }
      const variables: Record<Screen, Record<string, unknown>> = { BuildsList: { providerIds: [inst.id], first: 20 }, BuildDetail: { id: buildId }, RunPage: { id: runId } };
      for (const screen of ['BuildsList', 'BuildDetail', 'RunPage'] as const) {
        const server = await gateway();
        try {
          const seen = (from: number) => fake.requests.slice(from).map((r) => `${r.method} ${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query)}` : ''}`);
          let from = fake.requests.length;
          const cold = await post(server.url, texts[screen], variables[screen]);
          const coldRequests = seen(from);
          from = fake.requests.length;
          const warm = await post(server.url, texts[screen], variables[screen]);
          const warmRequests = seen(from);
          const otherErrors = [...(cold.errors ?? []), ...(warm.errors ?? [])].filter((e) => e.extensions?.code !== 'UNSUPPORTED_BY_PROVIDER').map((e) => `${e.extensions?.code}: ${e.message}`);
          rows.push({ provider: inst.id, kind: inst.kind, screen, cold: coldRequests.length, coldRequests, warm: warmRequests.length, warmRequests, otherErrors });
        } finally {
          await server.close();
        }
      }
    }
    return rows;
  } finally {
    await demo.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function toMarkdown(rows: CallRow[]): string {
  const lines = ['| provider | builds | calls made | minimum | repeated within TTL | minimum is |', '|---|---:|---:|---:|---:|---|'];
  for (const r of rows) lines.push(`| ${r.provider} | ${r.builds} | ${r.calls} | ${r.minimum} | ${r.repeatCalls} | ${r.why} |`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href && process.argv[2] === 'screens') {
  const rows = await measureScreenCalls();
  process.stdout.write(`Upstream calls per screen, in-memory cache\n\n| provider | screen | cold | within TTL | requests (cold) |\n|---|---|---:|---:|---|\n`);
  for (const r of rows) process.stdout.write(`| ${r.provider} (${r.kind}) | ${r.screen} | ${r.cold} | ${r.warm} | ${r.coldRequests.map((x) => `\`${x}\``).join(', ')} |\n`);
  for (const r of rows) if (r.otherErrors.length) process.stdout.write(`\n${r.provider} ${r.screen}: ${r.otherErrors.join('; ')}\n`);
} else if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const n = Number(process.argv[2] ?? 50);
  const rows = await measureUpstreamCalls(n, { redisUrl: process.env.REDIS_URL });
  process.stdout.write(`BuildsList (stats + lastRun), ${n} builds per provider, cache ${process.env.REDIS_URL ? 'redis' : 'memory'}\n\n${toMarkdown(rows)}\n`);
  if (rows.some((r) => r.otherErrors)) process.stdout.write(`\nunexpected errors: ${rows.map((r) => `${r.provider}=${r.otherErrors}`).join(', ')}\n`);
}
