import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { redactInputEcho } from '../auth/error-redaction.js';
import type { Principal } from '../auth/principal.js';
import { requestError, type OperationRefusal, type OperationRequest, type Security } from '../auth/security.js';
import { BuildgateError, ErrorCode } from '../errors.js';

/** Codes whose messages are meant for clients; anything else is an internal failure. */
const PUBLIC_CODES = new Set<string>([...Object.values(ErrorCode), 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE']);

/**
 * The operation pipeline, defined once and applied to both transports (the shape of an
 * envelop plugin chain): parse with the token limit and validate with the same rules
 * (depth, cost, aliases, directives, introspection policy), then Security.checkOperation
 * (variables coerced, cost counted with them, mutation rate limit), then execution with
 * the principal in the context, then one error formatter (internal errors masked, echoed
 * input redacted, suggestions masked). Apollo takes `apollo`; the graphql-ws transport
 * (ws-transport.ts) takes `check` and `formatWsError`. Authentication itself happens before
 * either: per HTTP request, and per graphql-ws operation again (a socket outlives its
 * credential).
 */
export class OperationPipeline {
  constructor(private readonly security: Security, private readonly logger: Logger) {}

  /** What a client sees of an error, over HTTP (Apollo) and graphql-ws alike. */
  readonly formatError = (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = String(formatted.extensions?.code ?? '');
    // `http` carries the status Apollo answers with; it is not for clients (and means nothing on a socket).
    const { http: _http, ...extensions } = formatted.extensions ?? {};
    // INTERNAL_SERVER_ERROR is Apollo's label for unexpected errors: never pass their messages on.
    if (PUBLIC_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      return { ...formatted, message: this.security.limits.maskSuggestions(redactInputEcho(formatted.message)), extensions };
    }
    const original = error instanceof GraphQLError ? error.originalError ?? error : error;
    if (original instanceof BuildgateError) return { ...formatted, extensions: { ...original.extensions } };
    this.logger.error({ err: original }, 'internal error');
    return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };

  /**
   * graphql-ws sends graphql-js errors as they are. Request errors (parse, validation,
   * variables, limits) already carry their codes from the pipeline; an error without a code
   * comes from execution, and is what Apollo calls INTERNAL_SERVER_ERROR: masked the same way.
   */
  readonly formatWsError = (e: GraphQLError): GraphQLFormattedError => {
    const f = e.toJSON();
    return this.formatError(f.extensions?.code ? f : { ...f, extensions: { ...f.extensions, code: ErrorCode.INTERNAL_SERVER_ERROR } }, e);
  };

  /** The shared checks after validation (Security.checkOperation); the caller sends the errors its way. */
  check(r: OperationRequest): Promise<OperationRefusal | null> {
    return this.security.checkOperation(r);
  }

  /** The pipeline as Apollo options and plugins. */
  apollo(batched: boolean) {
    const limits = this.security.limits;
    const plugin: ApolloServerPlugin<{ principal: Principal; logger: Logger }> = {
      requestDidStart: async () => ({
        didResolveOperation: async ({ operation, request, contextValue, document, schema }) => {
          if (!operation) return;
          if (operation.operation === 'subscription') {
            throw requestError('BAD_REQUEST', 'Subscriptions go over graphql-ws on this same URL, not over HTTP POST/GET', 400);
          }
          const refused = await this.check({ principal: contextValue.principal, schema: schema as GraphQLSchema, document, operation, variables: request.variables, logger: contextValue.logger });
          if (refused) throw refused.errors[0];
        },
      }),
    };
    return {
      validationRules: limits.rules,
      parseOptions: { maxTokens: limits.maxTokens },
      allowBatchedHttpRequests: batched,
      // Introspection is refused by the shared validation rules (limits.rules), not by Apollo's own copy.
      introspection: true,
      formatError: this.formatError,
      plugins: [plugin] as ApolloServerPlugin<any>[],
    };
  }
}
