import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import {
  getOperationAST, getVariableValues, GraphQLError, Kind, parse, valueFromASTUntyped,
  type DocumentNode, type GraphQLSchema, type OperationDefinitionNode,
} from 'graphql';
import type { Logger } from 'pino';
import { AuditLog, targetOf } from '../audit/audit-log.js';
import { scrubArgs } from '../audit/scrub.js';
import type { Config } from '../config/index.js';
import { ErrorCode } from '../errors.js';
import { MAX_VARIABLE_DEPTH, nestedDeeperThan, OperationLimits } from '../limits/operation-limits.js';
import { RateLimitedError, RateLimits } from '../limits/rate-limits.js';
import type { Store } from '../store/db.js';
import { AuthFailure, Authenticator } from './authenticator.js';
import { actorOf, anonymous, anonymousRole, roleRank, type Principal, type Role } from './principal.js';

/** graphql-ws close codes: 4401/4403 as graphql-ws itself uses them, 4429 by analogy with HTTP 429. */
export const WS_CLOSE = { UNAUTHENTICATED: 4401, FORBIDDEN: 4403, RATE_LIMITED: 4429 } as const;

const gqlError = (status: number, code: string, message: string, extensions: Record<string, unknown> = {}) =>
  ({ status, body: { errors: [{ message, extensions: { ...extensions, code } }] } });

/** An operation as both transports hand it over once it is parsed and validated. */
export interface OperationRequest {
  principal: Principal;
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** As the client sent them (not yet coerced). */
  variables: unknown;
  logger: Logger;
}

/**
 * Everything between a connection and the schema, defined once for HTTP and graphql-ws: who
 * is asking (authentication), how much they may ask (operation limits with variables
 * coerced first, rate limits), and the audit log. src/server/pipeline.ts applies these to
 * both transports; roles themselves are checked by the schema's authChecker.
 */
export class Security {
  readonly authenticator: Authenticator;
  readonly limits: OperationLimits;
  readonly rateLimits: RateLimits;
  readonly audit: AuditLog;
  private readonly parseBody: RequestHandler;

  constructor(config: Config, store: Store, private readonly logger: Logger) {
    this.authenticator = new Authenticator(config, store);
    this.limits = new OperationLimits(config);
    this.rateLimits = new RateLimits(config, logger);
    this.audit = new AuditLog(store);
    this.parseBody = express.json({ limit: config.server.bodyLimit });
    const anon = anonymousRole(config);
    logger.info({ anonymous: anon ?? 'refused', jwt: !!config.auth.jwt, rateLimits: this.rateLimits.backend }, 'auth settings');
  }

  /**
   * Express middleware for /graphql: sets res.locals.principal, or answers 401/403 in
   * GraphQL shape. A GET without `query` (the playground page) executes nothing and passes.
   */
  readonly http: RequestHandler = (req, res, next) => {
    if (req.method !== 'POST' && !(req.method === 'GET' && typeof req.query.query === 'string')) { next(); return; }
    this.authenticateHttp(req, res, next, true);
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

  private authenticateHttp(req: Request, res: Response, next: NextFunction, graphql = false): void {
    // No credential where anonymous callers may read: decided without a promise round trip.
    const anon = this.authenticator.anonymousCaller(req.headers.authorization, req.socket.remoteAddress ?? 'unknown');
    if (anon) {
      res.locals.principal = anon;
      next();
      return;
    }
    this.authenticator.authenticate(req.headers.authorization, req.socket.remoteAddress ?? 'unknown').then((p) => {
      res.locals.principal = p;
      next();
    }, (e: unknown) => {
      if (!(e instanceof AuthFailure)) { next(e); return; }
      const answer = () => {
        const r = gqlError(e.status, e.code, e.message);
        if (e.status === 401) res.setHeader('www-authenticate', 'Bearer realm="buildgate"');
        res.status(r.status).json(r.body);
      };
      if (!graphql || req.method !== 'POST') { answer(); return; }
      // Mutations refused here never reach the schema's audit wrapper: record them from the body.
      this.parseBody(req, res, (err?: unknown) => {
        if (err) { answer(); return; }
        this.auditRefused(req.body, e.code, req.socket.remoteAddress ?? 'unknown', String(res.locals.requestId ?? '')).finally(answer);
      });
    });
  }

  /**
   * One audit entry per root field of a mutation refused before execution (no or bad
   * credential; over graphql-ws: a socket whose credential was revoked or expired). The credential itself is not recorded; arguments are scrubbed as always.
   * Counted against the caller's address's mutation budget: a flood of refused mutations
   * must not fill the table.
   */
  async auditRefused(body: unknown, outcome: string, ip: string, requestId: string): Promise<void> {
    try {
      const one = (Array.isArray(body) ? body[0] : body) as { query?: unknown; variables?: unknown; operationName?: unknown } | undefined;
      if (typeof one?.query !== 'string') return;
      let document: DocumentNode;
      try { document = parse(one.query, { maxTokens: this.limits.maxTokens }); } catch { return; }
      const op = getOperationAST(document, typeof one.operationName === 'string' ? one.operationName : undefined);
      if (op?.operation !== 'mutation') return;
      const fields = op.selectionSet.selections.filter((s) => s.kind === Kind.FIELD);
      try {
        await this.rateLimits.consumeMutations(anonymous('viewer', ip), fields.length);
      } catch (e) {
        if (e instanceof RateLimitedError) return;
        throw e;
      }
      const vars = one.variables && typeof one.variables === 'object' && !nestedDeeperThan(one.variables, MAX_VARIABLE_DEPTH) ? one.variables as Record<string, unknown> : {};
      for (const f of fields) {
        const args = Object.fromEntries(f.arguments?.map((a) => [a.name.value, valueFromASTUntyped(a.value, vars)]) ?? []);
        await this.audit.record({ actor: `unauthenticated@${ip}`, operation: f.name.value, targetId: targetOf(args), args, outcome, requestId: requestId || null });
      }
    } catch (e) {
      this.logger.error({ err: e }, 'audit entry of a refused mutation not written');
    }
  }

  /**
   * The checks every parsed and validated operation passes before it executes, whichever
   * transport brought it: variables of a sane shape, the cost counted again with the
   * coerced variables, and the mutation rate limit. Errors come back as a list (the first
   * one decides over HTTP), with `http` extensions for Apollo; the caller sends them its own way.
   */
  async checkOperation(r: OperationRequest): Promise<OperationRefusal | null> {
    const { variables, operation } = r;
    if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) {
      return { errors: [requestError(ErrorCode.BAD_USER_INPUT, 'variables must be a JSON object', 400)] };
    }
    if (variables && nestedDeeperThan(variables, MAX_VARIABLE_DEPTH)) {
      return { errors: [requestError(ErrorCode.BAD_USER_INPUT, `variables are nested deeper than ${MAX_VARIABLE_DEPTH} levels`, 400)] };
    }
    // Variables pass the audit scrubber first: debug logs must not become a copy of the secrets.
    // The gateway's logger decides (a request's child logger has its level): the child is made only to log.
    if (this.logger.isLevelEnabled('debug')) {
      r.logger.debug({ operation: operation.operation, operationName: operation.name?.value, actor: actorOf(r.principal), variables: scrubArgs(variables ?? {}) }, 'graphql operation');
    }
    // Coerced here for both transports, so that a bad variable is BAD_USER_INPUT (400) on either.
    const coerced = getVariableValues(r.schema, operation.variableDefinitions ?? [], (variables ?? {}) as Record<string, unknown>);
    if (coerced.errors) return { errors: coerced.errors.map((e) => requestError(ErrorCode.BAD_USER_INPUT, e.message, 400)), asResult: true };
    const costly = this.limits.checkCostWithVariables(r.schema, r.document, operation, coerced.coerced);
    if (costly.length) return { errors: costly.map((e) => requestError('GRAPHQL_VALIDATION_FAILED', e.message, 400)) };
    if (operation.operation === 'mutation') {
      try {
        await this.rateLimits.consumeMutations(r.principal, operation.selectionSet.selections.length);
      } catch (e) {
        if (!(e instanceof RateLimitedError)) throw e;
        return { errors: [new GraphQLError(e.message, { extensions: {
          code: ErrorCode.RATE_LIMITED, retryAfterSec: e.retryAfterSec,
          http: { status: 429, headers: new Map([['retry-after', String(e.retryAfterSec)]]) },
        } })] };
      }
    }
    return null;
  }

  close(): Promise<void> {
    return this.rateLimits.close();
  }
}

/**
 * Why an operation does not run. `asResult`: errors graphql-js itself reports in the
 * execution result (variables that do not coerce), which graphql-ws therefore sends as a
 * `next` result; the others refuse the request (HTTP 4xx, a graphql-ws `error` message).
 */
export interface OperationRefusal { errors: GraphQLError[]; asResult?: boolean }

/** An error of the request as a whole (nothing executed); `status` is what HTTP answers with. */
export const requestError = (code: string, message: string, status: number) =>
  new GraphQLError(message, { extensions: { code, http: { status } } });
