import { z } from 'zod';

/**
 * The whole configuration, validated at start. Every key has a default so that no file
 * is needed for the embedded setup (SQLite file, in-memory cache and fan-out, in-process
 * build execution, bound to 127.0.0.1).
 */
/** Booleans from env strings: 'true'/'1'/'yes' and 'false'/'0'/'no' (z.coerce.boolean would read 'false' as true). */
const boolish = (v: unknown) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  return ['true', '1', 'yes', 'on'].includes(s) ? true : ['false', '0', 'no', 'off'].includes(s) ? false : v;
};
const bool = (d: boolean) => z.preprocess(boolish, z.boolean()).default(d);

/** An AES-256 key as configured: base64 of exactly 32 bytes. */
const secretsKey = z.string().refine((v) => /^[A-Za-z0-9+/]{43}=$/.test(v.trim()), 'must be the base64 of 32 bytes (buildgate secrets new-key, or openssl rand -base64 32)');

const upstreamKind = z.enum(['COCKTAIL', 'QUAY', 'ZADIG', 'CODEARTS']);

export const configSchema = z.strictObject({
  server: z.strictObject({
    /** Interface to bind; the embedded default stays on loopback. */
    host: z.string().default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(4000),
    /** Largest accepted request body. */
    bodyLimit: z.string().default('1mb'),
    /** Serve GraphiQL at GET /graphql. */
    playground: bool(true),
    /** Allow introspection (turn off in production if you must). */
    introspection: bool(true),
    /** "Did you mean ..." hints in validation errors; they reveal field names even without introspection. */
    fieldSuggestions: bool(true),
    /**
     * The URL upstream systems reach this gateway at (Cocktail run callbacks, Quay
     * notifications: `<publicUrl>/hooks/<providerId>`). Unset: the address it listens on,
     * unless that is a wildcard (0.0.0.0, ::), when no callback is registered.
     */
    publicUrl: z.url().optional(),
    /**
     * Host names (the Host header, port left out) this gateway answers besides loopback names;
     * `*`: any. Bound to loopback, other names get HTTP 403 (DNS rebinding); bound elsewhere,
     * an empty list answers every name.
     */
    allowedHosts: z.array(z.string()).default([]),
    /** Seconds to wait for in-flight requests and sockets on SIGTERM. */
    shutdownGraceSec: z.coerce.number().min(0).default(10),
    /** graphql-ws on /graphql (see src/server/ws-transport.ts). */
    ws: z.strictObject({
      /**
       * Browser origins (`https://ci.example`) allowed to open the websocket, beside the
       * gateway's own origin and loopback origins; `*`: any. Other origins get HTTP 403 before
       * the upgrade. Requests without an Origin header (not from a browser) are not refused.
       */
      allowedOrigins: z.array(z.string()).default([]),
      /** Largest websocket message before connection_init is authenticated (bytes). */
      maxPayloadBeforeInit: z.coerce.number().int().min(1024).default(64 * 1024),
      /** Largest websocket message once authenticated (bytes). */
      maxPayload: z.coerce.number().int().min(1024).default(1024 * 1024),
      /** Interval of the check that closes sockets whose API key was revoked or JWT expired (ms). */
      credentialRecheckMs: z.coerce.number().int().min(100).default(5000),
      /** Validated documents kept for reuse by graphql-ws, in bytes of query text. */
      documentCacheBytes: z.coerce.number().int().min(0).default(16 * 1024 * 1024),
    }).prefault({}),
  }).prefault({}),
  database: z.strictObject({
    /** `sqlite:<path>` (default) or `postgres://...`. */
    url: z.string().default('sqlite:./data/buildgate.db'),
  }).prefault({}),
  /** Secrets at rest (build and step credentials in the store): AES-256-GCM; see docs/production.md. */
  secrets: z.strictObject({
    /** base64 of 32 random bytes (`openssl rand -base64 32`); unset: the key file. */
    key: secretsKey.optional(),
    /** Keys values may still be sealed with: after a rotation, until the next start has re-sealed everything. */
    previousKeys: z.array(secretsKey).default([]),
    /** Key file used when `key` is unset; created (mode 0600) when missing. Default: `secrets.key` beside the SQLite file, else ./data/secrets.key. */
    keyFile: z.string().optional(),
  }).prefault({}),
  redis: z.strictObject({
    /** When set: upstream cache and subscription fan-out go through Redis. */
    url: z.string().optional(),
  }).prefault({}),
  /** Live delivery (subscriptions); see LiveSettings in src/live/hub.ts. */
  live: z.strictObject({
    /** Live log lines queued per subscriber; past it the subscriber gets fellBehind with the seq to resume after. */
    maxBufferedLines: z.coerce.number().int().min(100).default(20_000),
    /** Bytes unsent on a subscriber's websocket past which it counts as behind. */
    maxSocketBufferedBytes: z.coerce.number().int().min(64 * 1024).default(8 * 1024 * 1024),
    /** A log subscriber that has not asked for its next event for this long while lines pile up gets fellBehind (ms). */
    stalledClientMs: z.coerce.number().int().min(100).default(5000),
    /** Most lines per log event and per store read while replaying. */
    pageLines: z.coerce.number().int().min(1).max(10_000).default(1000),
    /** Poll interval of a watched upstream run while it runs (ms). */
    pollMs: z.coerce.number().int().min(50).default(1000),
    /** Ceiling of the error backoff of a watched upstream run (ms); queued and running runs are both read every pollMs. */
    pollIdleMs: z.coerce.number().int().min(50).default(5000),
    /** Poll interval of a watched upstream build's run list (ms). */
    listPollMs: z.coerce.number().int().min(50).default(10_000),
  }).prefault({}),
  /** Prometheus metrics at GET /metrics. */
  metrics: z.strictObject({
    enabled: bool(true),
    /** When set, a scrape must send `Authorization: Bearer <token>` (set it when /metrics is reachable from outside). */
    token: z.string().min(16).optional(),
  }).prefault({}),
  /** OpenTelemetry traces: off unless an OTLP endpoint is set. */
  tracing: z.strictObject({
    /** OTLP/HTTP traces endpoint (e.g. http://otel-collector:4318/v1/traces); unset: no tracing, no cost. */
    otlpEndpoint: z.url().optional(),
    /** Headers for the collector (e.g. an API key); treated as secrets. */
    headers: z.record(z.string(), z.string()).default({}),
    serviceName: z.string().min(1).default('buildgate'),
    /** Share of new traces recorded, 0..1 (a caller's sampled traceparent is always followed). */
    sampleRatio: z.coerce.number().min(0).max(1).default(1),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }).prefault({}),
  demo: z.strictObject({
    /**
     * Seed a few native builds into an empty store at start. Unset: only in the embedded
     * default (no config file, SQLite, bound to loopback); then builds may also reach the
     * gateway's own address (`server.host`), which the demo's HTTP step calls.
     */
    seed: z.preprocess(boolish, z.boolean()).optional(),
    /** Start the fake upstream servers and configure one provider instance of each kind. */
    upstreams: bool(false),
  }).prefault({}),
  limits: z.strictObject({
    /** Largest page a connection returns. */
    maxPageSize: z.coerce.number().int().min(1).default(100),
    /** Longest accepted string in any input (characters). */
    maxInputString: z.coerce.number().int().min(1).default(1_000_000),
    /** Most steps in one build. */
    maxSteps: z.coerce.number().int().min(1).default(100),
    /** Deepest selection nesting of an operation (graphql-armor maxDepth). */
    maxDepth: z.coerce.number().int().min(1).default(12),
    /**
     * Highest static cost of an operation (graphql-armor costLimit: objects 2, scalars 1,
     * times 1.5 per level, list fields multiplied by a literal `first`). A run log page of
     * 5,000 lines with every LogLine field costs about 180,000.
     */
    maxCost: z.coerce.number().int().min(1).default(250_000),
    /** Most aliases in an operation. */
    maxAliases: z.coerce.number().int().min(0).default(15),
    /** Most lexical tokens in an operation document. */
    maxTokens: z.coerce.number().int().min(1).default(2000),
    /** Most directives in an operation. */
    maxDirectives: z.coerce.number().int().min(0).default(50),
    /** Accept a JSON array of operations in one HTTP request (Apollo batching). */
    batchedRequests: bool(false),
    /** Mutations per credential (or per IP when anonymous) per minute; 0: no limit. */
    mutationsPerMinute: z.coerce.number().int().min(0).default(120),
    /**
     * graphql-ws connections opened per credential (per IP when anonymous) per minute; 0: no
     * limit. The default lets a page of 50 live views connect and reconnect several times a minute.
     */
    wsConnectsPerMinute: z.coerce.number().int().min(0).default(300),
    /** Operations (subscriptions and queries in flight) open at once on one graphql-ws socket. */
    wsOperationsPerSocket: z.coerce.number().int().min(1).default(100),
    /** Operations open at once over all graphql-ws sockets of one credential (of one IP when anonymous). */
    wsOperationsPerCredential: z.coerce.number().int().min(1).default(1000),
  }).prefault({}),
  auth: z.strictObject({
    /**
     * Role of requests without a credential: none (refused with 401), viewer, operator or
     * admin. Unset: viewer when the server binds to loopback, none otherwise.
     */
    anonymous: z.enum(['none', 'viewer', 'operator', 'admin']).optional(),
    /** Accept API keys (`buildgate keys create`) as `Authorization: Bearer <key>`. */
    apiKeys: bool(true),
    /** Accept JWTs signed by a key of this JWKS, with this issuer and audience. */
    jwt: z.strictObject({
      jwksUrl: z.url(),
      issuer: z.string().min(1),
      audience: z.string().min(1),
      /** Claim holding the role(s) (dot path, string or array; the highest known role wins). */
      rolesClaim: z.string().default('roles'),
      /** Optional claim with the provider instance ids the token may act on (absent: all). */
      providersClaim: z.string().default('buildgate_providers'),
    }).optional(),
  }).prefault({}),
  engine: z.strictObject({
    /** Where run workspaces live. */
    workDir: z.string().default('./data/workspaces'),
    maxConcurrentRuns: z.coerce.number().int().min(1).default(2),
    defaultStepTimeoutSec: z.coerce.number().int().min(1).default(3600),
    /**
     * Longest stored log line in UTF-8 bytes (64 KiB, as Tekton); a longer line is stored in
     * pieces cut between characters, each after the first marked `continued`.
     */
    maxLogLineBytes: z.coerce.number().int().min(256).default(64 * 1024),
    /** Most log bytes kept per step; beyond it a marker line is stored and output dropped. */
    maxLogBytesPerStep: z.coerce.number().int().min(1024).default(64 * 1024 * 1024),
    /**
     * Longest a log line waits before it is stored and streamed (a full batch goes at once).
     * Short batches keep live viewers close; the ingestion rate is set by full batches.
     */
    logFlushMs: z.coerce.number().int().min(1).max(1000).default(10),
    /**
     * Where native runs execute: in this process, or on build agents (`buildgate agent`) that
     * take them from a BullMQ queue per build server (`buildServerHost`) on `redis.url`.
     */
    runOn: z.enum(['process', 'agents']).default('process'),
    /** A build agent silent for this long loses its runs: the next agent ends them as ERROR (BullMQ lock and stall check). */
    agentStallMs: z.coerce.number().int().min(1000).default(30_000),
    registry: z.strictObject({
      host: z.string().default('127.0.0.1:5000'),
      insecure: bool(true),
      username: z.string().optional(),
      password: z.string().optional(),
    }).prefault({}),
    buildah: z.strictObject({
      storageDriver: z.string().default('vfs'),
      isolation: z.string().default('chroot'),
      root: z.string().optional(),
      runroot: z.string().optional(),
    }).prefault({}),
    /** Private hosts/CIDRs the server may fetch on a user's behalf (git, HTTP step, FTP, callbacks). */
    allowPrivateHosts: z.array(z.string()).default([]),
    /**
     * Run callbacks (`runBuild(callbackUrl)`): POSTs per callback and the exponential backoff
     * between them (initialDelayMs, doubling, at most maxDelayMs; the defaults try for about
     * 13 minutes). Only a 2xx answer counts as delivered.
     */
    callback: z.strictObject({
      attempts: z.coerce.number().int().min(1).max(100).default(10),
      initialDelayMs: z.coerce.number().int().min(1).default(2000),
      maxDelayMs: z.coerce.number().int().min(1).default(300_000),
      timeoutMs: z.coerce.number().int().min(100).default(10_000),
    }).prefault({}),
  }).prefault({}),
  providers: z.array(z.strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
    kind: upstreamKind,
    baseUrl: z.url(),
    options: z.record(z.string(), z.unknown()).default({}),
    cacheTtlMs: z.coerce.number().int().min(0).default(5000),
    timeoutMs: z.coerce.number().int().min(1).default(10000),
    /** Longest one upstream read may take, retries included: a hung upstream costs a query at most this. */
    deadlineMs: z.coerce.number().int().min(1).default(5000),
    retries: z.coerce.number().int().min(0).default(2),
    /**
     * Push from this upstream (docs/providers/): webhooks to `/hooks/<id>` are accepted only
     * with this secret (Quay: in the notification URL; Cocktail: buildgate signs the callback
     * URL it registers with it). Unset: no webhook is accepted and runs are polled only.
     */
    webhook: z.strictObject({
      secret: z.string().min(16, 'at least 16 characters'),
      /** Webhook requests per minute accepted for this provider (beyond: 429). */
      perMinute: z.coerce.number().int().min(1).default(600),
    }).optional(),
    /** Circuit breaker: opens when availability failures pass the threshold, fails fast, tries again after resetTimeoutMs. */
    breaker: z.strictObject({
      volumeThreshold: z.coerce.number().int().min(1).default(5),
      /** Reads in a row that ran to deadlineMs unanswered after which it opens (a hang costs each query the whole deadline). */
      openAfterHangs: z.coerce.number().int().min(1).default(3),
      errorThresholdPercentage: z.coerce.number().min(1).max(100).default(50),
      resetTimeoutMs: z.coerce.number().int().min(100).default(30_000),
      /** Unset: sized to the deadline (deadlineMs × (volumeThreshold + 1), at least 10 s) so a persistent hang opens it. */
      rollingWindowMs: z.coerce.number().int().min(1000).optional(),
    }).prefault({}),
  })).default([]),
}).superRefine((c, ctx) => {
  if (c.engine.runOn === 'agents' && !c.redis.url) {
    ctx.addIssue({ code: 'custom', path: ['engine', 'runOn'], message: 'agents take runs from queues on Redis: set redis.url' });
  }
});

type Parsed = z.infer<typeof configSchema>;
/** The validated config; `demo.seed` is always decided (see parseConfig). */
export type Config = Parsed & { demo: Parsed['demo'] & { seed: boolean } };
export type ConfigInput = z.input<typeof configSchema>;
