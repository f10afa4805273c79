import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import express from 'express';
import type { Logger } from 'pino';
import { startupStep, type Config } from '../config/index.js';
import { ErrorCode } from '../errors.js';
import { LiveHub, redisNamespace } from '../live/hub.js';
import { ProviderRegistry } from '../providers/registry.js';
import type { Provider } from '../providers/types.js';
import { createSchema } from '../schema/index.js';
import { Loaders, type Context, type Services } from '../schema/context.js';
import type { Store } from '../store/db.js';
import { seedDemoBuilds } from '../store/demo.js';
import { openMigratedStore } from '../store/open.js';
import { openSecrets, type SecretBox } from '../store/crypto.js';
import { createMetrics } from '../metrics/index.js';
import { Instruments } from '../metrics/instruments.js';
import { createLogger } from './logger.js';
import { startTracing, type Tracing } from '../tracing/sdk.js';
import { tracingOn } from '../tracing/index.js';
import { httpOperationSpan, operationSpanPlugin } from './tracing.js';
import { LOG_DOWNLOAD_PATH, logDownload } from './log-download.js';
import { PLAYGROUND_ASSETS_PATH, playgroundAssets, playgroundPlugin } from './playground.js';
import { packageRoot } from './package-root.js';
import { createProviders } from './providers.js';
import { Security } from '../auth/security.js';
import type { Principal } from '../auth/principal.js';
import { visibleProviders } from '../auth/checker.js';
import { OperationPipeline } from './pipeline.js';
import { apolloHttp } from './apollo-http.js';
import { startWsTransport } from './ws-transport.js';
import { hostGuard } from './host-guard.js';
import { fromGlobalId } from '../ids.js';
import { HOOKS_PATH, hooksHandler, publicUrlOf } from './hooks.js';

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  store: Store;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Providers added beside the configured ones (tests, demo upstreams). */
  extraProviders?: Provider[];
  /** PostgreSQL schema to use (tests). */
  pgSchema?: string;
}

/**
 * Starts buildgate: store (migrated), providers, schema, Apollo over HTTP and graphql-ws
 * on the same port and path, GraphiQL at GET /graphql, /healthz and /readyz.
 */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.log.level);
  const app = express();
  app.disable('x-powered-by');
  // res.send/res.json would hash every body for an ETag; nothing here is answered 304 (the playground's static assets have their own).
  app.set('etag', false);
  const httpServer = http.createServer(app);
  // The port is taken first: a start that cannot serve must not migrate, recover or seed anything.
  let starting = true;
  app.use(hostGuard(config.server.host, config.server.allowedHosts));
  app.use((_req, res, next) => { if (starting) res.status(503).json({ status: 'starting' }); else next(); });
  await startupStep(`cannot listen on ${config.server.host}:${config.server.port}`, 'server.port', () => new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.server.port, config.server.host, () => { httpServer.off('error', reject); resolve(); });
  }));
  try {
    const server = await serve(config, opts, logger, app, httpServer);
    starting = false;
    return server;
  } catch (e) {
    httpServer.close();
    throw e;
  }
}

async function serve(config: Config, opts: StartOptions, logger: Logger, app: express.Express, httpServer: http.Server): Promise<RunningServer> {
  // Process-wide, so only when nothing (a test's exporter) started it already.
  const { otlpEndpoint, headers, serviceName, sampleRatio } = config.tracing;
  const tracing: Tracing | null = otlpEndpoint && !tracingOn()
    ? await startupStep('cannot start tracing', 'tracing.otlpEndpoint', () => startTracing({ otlpEndpoint, headers, serviceName, sampleRatio }))
    : null;
  const traced = tracingOn();
  const store = await openMigratedStore(config.database.url, { pgSchema: opts.pgSchema });
  let secrets: SecretBox;
  try {
    const opened = await startupStep('cannot open the stored secrets', 'secrets.key', () => openSecrets(store.db, config.secrets, config.database.url));
    if (opened.sealed) logger.info({ rows: opened.sealed }, 'sealed stored secrets with the current secrets key');
    secrets = opened.box;
  } catch (e) {
    await store.close(); // a wrong key stops the start without leaving the pool open
    throw e;
  }
  const instruments = new Instruments();
  const live = new LiveHub({ settings: config.live, onError: (e) => logger.warn({ err: e }, 'live fan-out error'), instruments });
  // Replicas sharing a store share Redis channels; unrelated deployments on the same Redis do not.
  if (config.redis.url) await live.useRedis(config.redis.url, `${redisNamespace(config.database.url, opts.pgSchema)}:`);
  const listening = httpServer.address() as import('node:net').AddressInfo;
  const publicUrl = publicUrlOf(config.server.publicUrl, config.server.host, listening.port);
  const { providers, native, engine, close: closeProviders } = await createProviders(config, store, secrets, live, logger, opts.pgSchema, publicUrl, instruments);
  const registry = new ProviderRegistry([...providers, ...(opts.extraProviders ?? [])]);
  // Webhooks received by any replica wake the pollers of this one.
  await live.followPush(registry.all().filter((p) => p.push).map((p) => p.id));
  const security = new Security(config, store, logger);
  await security.rateLimits.ready();
  const services: Services = { config, registry, live, logger, audit: security.audit, store };
  const schema = await createSchema(live.pubSub);

  let shuttingDown = false;

  // The request's child logger is made when something logs: most requests never do.
  const newContext = (requestId: string, principal: Principal): Context => {
    let child: Logger | undefined;
    return {
      requestId, services, loaders: new Loaders(registry), partialErrors: [], principal,
      get logger() { return (child ??= logger.child({ requestId })); },
    };
  };

  // One pipeline (limits, checks, error formatting) for both transports.
  const pipeline = new OperationPipeline(security, logger);
  const ws = startWsTransport({ config, httpServer, schema, security, pipeline, store, logger, newContext: (p) => newContext(randomUUID(), p) });

  const partialErrorsPlugin: ApolloServerPlugin<Context> = {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single' || contextValue.partialErrors.length === 0) return;
          const body = response.body.singleResult;
          body.errors = [...(body.errors ?? []), ...contextValue.partialErrors.map((e) => e.toJSON())];
        },
      };
    },
  };

  const metrics = createMetrics(config, { store, registry, live, ws: () => ws.stats(), instruments });
  const { plugins: pipelinePlugins, ...pipelineOptions } = pipeline.apollo(config.limits.batchedRequests);
  const apollo = new ApolloServer<Context>({
    schema,
    ...pipelineOptions,
    csrfPrevention: true,
    persistedQueries: false, // no client uses APQ; its cache would be one more thing to bound
    // The CLI handles SIGINT/SIGTERM and calls close(); Apollo's own handler would race it and leave close() hanging.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    plugins: [
      ...pipelinePlugins,
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { async serverWillStart() { return { async drainServer() { await ws.dispose(); } }; } },
      // No field carries cache hints; the default plugin would still wrap every resolver call to compute a policy.
      ApolloServerPluginCacheControlDisabled(),
      partialErrorsPlugin,
      metrics.apolloPlugin, // after partialErrorsPlugin: counts the errors it adds
      ...(traced ? [operationSpanPlugin] : []),
      config.server.playground
        ? playgroundPlugin({ operationsDir: path.join(packageRoot(), 'schema', 'operations') })
        : ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();

  app.use((req, res, next) => {
    const id = (typeof req.headers['x-request-id'] === 'string' && /^[\w-]{1,64}$/.test(req.headers['x-request-id'])) ? req.headers['x-request-id'] : randomUUID();
    res.locals.requestId = id;
    res.setHeader('x-request-id', id);
    next();
  });
  // First after the request id: every other route is tried in order before it, and /graphql carries the load.
  app.use('/graphql',
    security.http, // 401 before the body is even read
    express.json({ limit: config.server.bodyLimit }),
    ...(traced ? [httpOperationSpan] : []),
    apolloHttp(apollo, async ({ res }) => newContext(String(res.locals.requestId), res.locals.principal as Principal)));
  app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  app.get('/metrics', metrics.handler);
  // Status for anyone (load balancers); provider ids and health only for a credential that may see them.
  app.get('/readyz', async (req, res) => {
    if (shuttingDown) { res.status(503).json({ status: 'shutting down' }); return; }
    // A configured Redis carries live events (and with runOn: agents the runs): without it subscriptions cannot work.
    if (config.redis.url && !live.transportUp) { res.status(503).json({ status: 'redis unavailable' }); return; }
    try {
      await store.db.selectFrom('builds').select('id').limit(1).execute();
    } catch (e) {
      logger.warn({ err: e }, 'readiness: store unavailable');
      res.status(503).json({ status: 'store unavailable' });
      return;
    }
    const viewer = await security.authenticator.authenticate(req.headers.authorization, req.socket.remoteAddress ?? 'unknown').catch(() => null);
    if (!viewer || viewer.kind === 'anonymous') { res.json({ status: 'ready' }); return; }
    const visible = visibleProviders(viewer, registry.all().map((p) => p.id));
    res.json({ status: 'ready', providers: registry.all().filter((p) => visible.includes(p.id)).map((p) => ({ id: p.id, status: p.health().status })) });
  });
  // Upstream webhooks carry their own credential (the provider's webhook secret), not a user's.
  app.use(HOOKS_PATH, ...hooksHandler(registry, live, logger, new Map(config.providers.map((p) => [p.id, p.webhook?.perMinute ?? 600]))));
  if (config.server.playground) app.use(PLAYGROUND_ASSETS_PATH, playgroundAssets());
  app.get(`${LOG_DOWNLOAD_PATH}/:file`, security.requireRole('viewer', (req) => fromGlobalId(String(req.params.file).replace(/\.txt$/, '')).providerId), logDownload(registry));
  // Malformed JSON / oversized bodies: a GraphQL-shaped 4xx, never a 500 or an HTML page.
  app.use((err: { status?: number; type?: string; message: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error({ err }, 'unhandled HTTP error');
    res.status(status).json({ errors: [{ message: status === 413 ? 'Request body too large' : status === 500 ? 'Internal server error' : `Bad request: ${err.message}`, extensions: { code: status === 500 ? ErrorCode.INTERNAL_SERVER_ERROR : 'BAD_REQUEST' } }] });
  });

  const addr = httpServer.address() as import('node:net').AddressInfo;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const url = `http://${host}:${addr.port}/graphql`;
  // Seeded once the port is ours: the demo's HTTP step calls this very address.
  if (config.demo.seed) await startupStep('cannot seed the demo builds', 'demo.seed', () => seedDemoBuilds(native, url, logger));
  logger.info({ url, database: store.dialect, providers: registry.all().map((p) => p.id) }, 'buildgate listening');

  let closing: Promise<void> | null = null;
  const close = () => (closing ??= (async () => {
    shuttingDown = true;
    await engine.shutdown();
    await apollo.stop(); // drains HTTP requests and websocket clients
    await live.close(); // pollers and Redis connections
    await registry.close();
    await closeProviders(); // shared cache connection, demo upstream servers
    await security.close();
    await store.close();
    await tracing?.shutdown();
    logger.info('buildgate stopped');
  })());
  return { url, port: addr.port, services, store, close };
}
