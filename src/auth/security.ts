import type { ApolloServerPlugin } from '@apollo/server';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { getOperationAST, GraphQLError, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import type { Logger } from 'pino';
import { AuditLog } from '../audit/audit-log.js';
import { scrubArgs } from '../audit/scrub.js';
import type { Config } from '../config/index.js';
import { ErrorCode } from '../errors.js';
import { OperationLimits } from '../limits/operation-limits.js';
import { RateLimitedError, RateLimits } from '../limits/rate-limits.js';
import type { Store } from '../store/db.js';
import { AuthFailure, Authenticator } from './authenticator.js';
import { actorOf, anonymousRole, roleRank, type Principal, type Role } from './principal.js';

/** graphql-ws close codes: 4401/4403 as graphql-ws itself uses them, 4429 by analogy with HTTP 429. */
export const WS_CLOSE = { UNAUTHENTICATED: 4401, FORBIDDEN: 4403, RATE_LIMITED: 4429 } as const;

type WsExtra = { socket: { close(code: number, reason: string): void }; request: { headers: Record<string, unknown>; socket: { remoteAddress?: string } }; principal?: Principal };

const gqlError = (status: number, code: string, message: string, extensions: Record<string, unknown> = {}) =>
  ({ status, body: { errors: [{ message, extensions: { ...extensions, code } }] } });

/**
 * Everything between a connection and the schema: who is asking (authentication), how much
 * they may ask (operation limits, rate limits), and the audit log. The server wires these
 * hooks in; roles themselves are checked by the schema's authChecker.
 */
export class Security {
  readonly authenticator: Authenticator;
  readonly limits: OperationLimits;
  readonly rateLimits: RateLimits;
  readonly audit: AuditLog;

  constructor(private readonly config: Config, store: Store, private readonly logger: Logger) {
    this.authenticator = new Authenticator(config, store);
    this.limits = new OperationLimits(config);
    this.rateLimits = new RateLimits(config, logger);
    this.audit = new AuditLog(store);
    const anon = anonymousRole(config);
    logger.info({ anonymous: anon ?? 'refused', jwt: !!config.auth.jwt, rateLimits: this.rateLimits.backend }, 'auth settings');
  }

  /**
   * Express middleware for /graphql: sets res.locals.principal, or answers 401/403 in
   * GraphQL shape. A GET without `query` (the playground page) executes nothing and passes.
   */
  readonly http: RequestHandler = (req, res, next) => {
    if (req.method !== 'POST' && !(req.method === 'GET' && typeof req.query.query === 'string')) { next(); return; }
    this.authenticateHttp(req, res, next);
  };

  /** Middleware for other routes: a credential with at least `role`, scoped to the provider `providerOf` names. */
  requireRole(role: Role, providerOf: (req: Request) => string | null = () => null): RequestHandler {
    return (req, res, next) => this.authenticateHttp(req, res, () => {
      const p = res.locals.principal as Principal;
      const provider = (() => { try { return providerOf(req); } catch { return null; } })();
      if (roleRank(p.role) < roleRank(role) || (provider && p.providers && !p.providers.includes(provider))) {
        const r = gqlError(403, ErrorCode.FORBIDDEN, `${actorOf(p)} may not read this`);
        res.status(r.status).json(r.body);
        return;
      }
      next();
    });
  }

  private authenticateHttp(req: Request, res: Response, next: NextFunction): void {
    this.authenticator.authenticate(req.headers.authorization, req.socket.remoteAddress ?? 'unknown').then((p) => {
      res.locals.principal = p;
      next();
    }, (e: unknown) => {
      if (!(e instanceof AuthFailure)) { next(e); return; }
      const r = gqlError(e.status, e.code, e.message);
      if (e.status === 401) res.setHeader('www-authenticate', 'Bearer realm="buildgate"');
      res.status(r.status).json(r.body);
    });
  }

  /** Apollo options: operation limits, batching switch, and the mutation rate limit (429 + Retry-After). */
  apolloOptions() {
    const { plugins, ...rest } = this.limits.apolloOptions(this.config.limits.batchedRequests);
    const rate: ApolloServerPlugin<{ principal: Principal; logger: Logger }> = {
      requestDidStart: async () => ({
        didResolveOperation: async ({ operation, operationName, request, contextValue }) => {
          // Variables pass the audit scrubber first: debug logs must not become a copy of the secrets.
          contextValue.logger.debug({ operation: operation?.operation, operationName, actor: actorOf(contextValue.principal), variables: scrubArgs(request.variables ?? {}) }, 'graphql operation');
          if (operation?.operation === 'subscription') {
            throw new GraphQLError('Subscriptions go over graphql-ws on this same URL, not over HTTP POST/GET', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
          }
          if (operation?.operation !== 'mutation') return;
          try {
            await this.rateLimits.consumeMutations(contextValue.principal, operation.selectionSet.selections.length);
          } catch (e) {
            if (!(e instanceof RateLimitedError)) throw e;
            throw new GraphQLError(e.message, { extensions: {
              code: ErrorCode.RATE_LIMITED, retryAfterSec: e.retryAfterSec,
              http: { status: 429, headers: new Map([['retry-after', String(e.retryAfterSec)]]) },
            } });
          }
        },
      }),
    };
    return { ...rest, plugins: [...plugins, rate] as ApolloServerPlugin<any>[] };
  }

  /**
   * graphql-ws hooks: authenticate connection_init (connectionParams.authorization, else the
   * upgrade request's Authorization header), rate-limit connects, and parse/validate each
   * operation with the same limits as HTTP.
   */
  wsHooks(schema: GraphQLSchema): Pick<ServerOptions, 'onConnect' | 'onSubscribe'> {
    return {
      onConnect: async (ctx) => {
        const extra = ctx.extra as WsExtra;
        const params = ctx.connectionParams ?? {};
        const credential = params.authorization ?? params.Authorization ?? extra.request.headers.authorization;
        try {
          const p = await this.authenticator.authenticate(credential, extra.request.socket.remoteAddress ?? 'unknown');
          await this.rateLimits.consumeConnect(p);
          extra.principal = p;
          return true;
        } catch (e) {
          if (e instanceof AuthFailure) extra.socket.close(e.status === 401 ? WS_CLOSE.UNAUTHENTICATED : WS_CLOSE.FORBIDDEN, e.message.slice(0, 120));
          else if (e instanceof RateLimitedError) extra.socket.close(WS_CLOSE.RATE_LIMITED, `Rate limited: retry after ${e.retryAfterSec} s`);
          else { this.logger.error({ err: e }, 'websocket authentication failed'); extra.socket.close(1011, 'Internal error'); }
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> => {
        const checked = this.limits.check(schema, payload?.query);
        if ('errors' in checked) return checked.errors;
        const op = getOperationAST(checked.document, payload.operationName);
        if (op?.operation === 'mutation') {
          try {
            await this.rateLimits.consumeMutations((ctx.extra as WsExtra).principal!, op.selectionSet.selections.length);
          } catch (e) {
            if (!(e instanceof RateLimitedError)) throw e;
            return [new GraphQLError(e.message, { extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSec: e.retryAfterSec } })];
          }
        }
        const variables = payload.variables;
        return { schema, document: checked.document, operationName: payload.operationName, variableValues: variables && typeof variables === 'object' ? variables : undefined };
      },
    };
  }

  /** The principal onConnect stored on a graphql-ws connection. */
  static wsPrincipal(extra: unknown): Principal {
    const p = (extra as WsExtra).principal;
    if (!p) throw new AuthFailure(401, 'connection is not authenticated');
    return p;
  }

  close(): Promise<void> {
    return this.rateLimits.close();
  }
}
