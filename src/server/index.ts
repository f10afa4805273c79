import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Config } from '../config/index.js';
import { BuildgateError, ErrorCode } from '../errors.js';
import { LiveHub, redisNamespace } from '../live/hub.js';
import { sharedSerialization, sharedSubscribe } from '../live/shared-execution.js';
import { ProviderRegistry } from '../providers/registry.js';
import type { Provider } from '../providers/types.js';
import { createSchema } from '../schema/index.js';
import { Loaders, type Context, type Services } from '../schema/context.js';
import { openStore, type Store } from '../store/db.js';
import { migrateToLatest } from '../store/migrations.js';
import { createLogger } from './logger.js';
import { LOG_DOWNLOAD_PATH, logDownload } from './log-download.js';
import { PLAYGROUND_ASSETS_PATH, playgroundAssets, playgroundPlugin } from './playground.js';
import { packageRoot } from './package-root.js';
import { createProviders } from './providers.js';
import { Security } from '../auth/security.js';
import { redactInputEcho } from '../auth/error-redaction.js';
import type { Principal } from '../auth/principal.js';
import { fromGlobalId } from '../ids.js';

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

/** Codes whose messages are meant for clients; anything else is an internal failure. */
const PUBLIC_CODES = new Set<string>([...Object.values(ErrorCode), 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE']);

/**
 * Starts buildgate: store (migrated), providers, schema, Apollo over HTTP and graphql-ws
 * on the same port and path, GraphiQL at GET /graphql, /healthz and /readyz.
 */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.log.level);
  const store = openStore(config.database.url, { pgSchema: opts.pgSchema });
  await migrateToLatest(store.db, store.dialect);
  const live = new LiveHub({ settings: config.live, onError: (e) => logger.warn({ err: e }, 'live fan-out error') });
  // Replicas sharing a store share Redis channels; unrelated deployments on the same Redis do not.
  if (config.redis.url) await live.useRedis(config.redis.url, `${redisNamespace(config.database.url, opts.pgSchema)}:`);
  const { providers, engine, close: closeProviders } = await createProviders(config, store, live, logger, opts.pgSchema);
  const registry = new ProviderRegistry([...providers, ...(opts.extraProviders ?? [])]);
  const security = new Security(config, store, logger);
  const services: Services = { config, registry, live, logger, audit: security.audit, store };
  const schema = await createSchema(live.pubSub);

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql' });
  let shuttingDown = false;

  const newContext = (requestId: string, principal: Principal): Context => ({
    requestId, services, logger: logger.child({ requestId }), loaders: new Loaders(registry), partialErrors: [], principal,
  });

  /** What a client sees of an error, over HTTP (Apollo) and graphql-ws alike. */
  const formatError = (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = String(formatted.extensions?.code ?? '');
    // INTERNAL_SERVER_ERROR is Apollo's label for unexpected errors: never pass their messages on.
    if (PUBLIC_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) return { ...formatted, message: redactInputEcho(formatted.message) };
    const original = error instanceof GraphQLError ? error.originalError ?? error : error;
    if (original instanceof BuildgateError) return { ...formatted, extensions: { ...original.extensions } };
    logger.error({ err: original }, 'internal error');
    return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
  /**
   * graphql-ws sends graphql-js errors as they are; give them the codes Apollo gives them over
   * HTTP (a variable that does not coerce: BAD_USER_INPUT; other request errors: validation)
   * and the same formatting, so echoed input is redacted and internal errors masked here too.
   */
  const formatWsError = (e: GraphQLError): GraphQLFormattedError => {
    let f = e.toJSON();
    if (!f.extensions?.code) {
      // graphql-js words variable coercion errors this way (their originalError is the scalar's own complaint)
      if (/^Variable "\$[^"]+" got invalid value/.test(e.message)) f = { ...f, extensions: { ...f.extensions, code: ErrorCode.BAD_USER_INPUT } };
      else if (!e.originalError) f = { ...f, extensions: { ...f.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } };
    }
    return formatError(f, e);
  };

  // Before graphql-ws's own listener: shared subscription results go out serialised once.
  wss.on('connection', (socket) => sharedSerialization.patchSocket(socket as never));
  const wsCleanup = useServer({
    schema,
    ...security.wsHooks(schema), // authenticates connection_init; same operation limits as HTTP
    // Identical subscriptions (same operation, variables and role) share one execution per event.
    subscribe: sharedSubscribe((c) => { const p = (c as Context).principal; return `${p.role}|${p.providers?.join(',') ?? '*'}`; }),
    onNext: ((ctx: unknown, id: string, payload: unknown, args: unknown, result: ExecutionResult) => (result.errors?.length
      ? { ...result, errors: result.errors.map(formatWsError) }
      : sharedSerialization.onNext(ctx, id, payload, args, result))) as never,
    jsonMessageReplacer: sharedSerialization.jsonMessageReplacer,
    // The socket lets log streams notice a slow client (bufferedAmount) and tell it to resume.
    context: (ctx) => ({ ...newContext(randomUUID(), Security.wsPrincipal(ctx.extra)), socket: ctx.extra.socket }),
    onError: (_ctx, _id, _payload, errors) => {
      logger.warn({ errors: errors.map((e) => redactInputEcho(e.message)) }, 'subscription error');
      return errors.map(formatWsError);
    },
  }, wss);

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

  const limits = security.apolloOptions();
  const apollo = new ApolloServer<Context>({
    schema,
    introspection: config.server.introspection,
    csrfPrevention: true,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    allowBatchedHttpRequests: limits.allowBatchedHttpRequests,
    persistedQueries: false, // no client uses APQ; its cache would be one more thing to bound
    // The CLI handles SIGINT/SIGTERM and calls close(); Apollo's own handler would race it and leave close() hanging.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    formatError,
    plugins: [
      ...limits.plugins,
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
      partialErrorsPlugin,
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
  app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  app.get('/readyz', async (_req, res) => {
    if (shuttingDown) { res.status(503).json({ status: 'shutting down' }); return; }
    // A configured Redis carries live events (and with runOn: agents the runs): without it subscriptions cannot work.
    if (config.redis.url && !live.transportUp) { res.status(503).json({ status: 'redis unavailable' }); return; }
    try {
      await store.db.selectFrom('builds').select('id').limit(1).execute();
      res.json({ status: 'ready', providers: registry.all().map((p) => ({ id: p.id, status: p.health().status })) });
    } catch (e) {
      res.status(503).json({ status: 'store unavailable', error: (e as Error).message });
    }
  });
  if (config.server.playground) app.use(PLAYGROUND_ASSETS_PATH, playgroundAssets());
  app.get(`${LOG_DOWNLOAD_PATH}/:file`, security.requireRole('viewer', (req) => fromGlobalId(String(req.params.file).replace(/\.txt$/, '')).providerId), logDownload(registry));
  app.use('/graphql',
    security.http, // 401 before the body is even read
    express.json({ limit: config.server.bodyLimit }),
    expressMiddleware(apollo, { context: async ({ res }) => newContext(String(res.locals.requestId), res.locals.principal as Principal) }));
  // Malformed JSON / oversized bodies: a GraphQL-shaped 4xx, never a 500 or an HTML page.
  app.use((err: { status?: number; type?: string; message: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error({ err }, 'unhandled HTTP error');
    res.status(status).json({ errors: [{ message: status === 413 ? 'Request body too large' : status === 500 ? 'Internal server error' : `Bad request: ${err.message}`, extensions: { code: status === 500 ? ErrorCode.INTERNAL_SERVER_ERROR : 'BAD_REQUEST' } }] });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.server.port, config.server.host, () => resolve());
  });
  const addr = httpServer.address() as import('node:net').AddressInfo;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const url = `http://${host}:${addr.port}/graphql`;
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
    logger.info('buildgate stopped');
  })());
  return { url, port: addr.port, services, store, close };
}
