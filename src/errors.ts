import { GraphQLError } from 'graphql';

/**
 * Every error a client can see carries one of these stable codes in `extensions.code`.
 * Messages are for people; codes are for programs.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  ACTION_NOT_ALLOWED: 'ACTION_NOT_ALLOWED',
  UNSUPPORTED_BY_PROVIDER: 'UNSUPPORTED_BY_PROVIDER',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  RATE_LIMITED: 'RATE_LIMITED',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UPSTREAM_AUTH: 'UPSTREAM_AUTH',
  UPSTREAM_NOT_FOUND: 'UPSTREAM_NOT_FOUND',
  UPSTREAM_RATE_LIMITED: 'UPSTREAM_RATE_LIMITED',
  UPSTREAM_BAD_RESPONSE: 'UPSTREAM_BAD_RESPONSE',
  UPSTREAM_REJECTED: 'UPSTREAM_REJECTED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class: a GraphQLError whose code and extensions are fixed at construction. */
export class BuildgateError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
    this.name = 'BuildgateError';
  }
  get code(): ErrorCode {
    return this.extensions.code as ErrorCode;
  }
}

export const badInput = (message: string, field?: string) =>
  new BuildgateError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});

export const notFound = (what: string, id: string, field?: string) =>
  new BuildgateError(ErrorCode.NOT_FOUND, `${what} ${JSON.stringify(id)} does not exist`, field ? { id, field } : { id });

export const unsupported = (providerId: string, operation: string) =>
  new BuildgateError(
    ErrorCode.UNSUPPORTED_BY_PROVIDER,
    `Provider "${providerId}" does not support ${operation}`,
    { providerId, operation },
  );

export const actionNotAllowed = (action: string, state: string, allowed: readonly string[]) =>
  new BuildgateError(
    ErrorCode.ACTION_NOT_ALLOWED,
    `${action} is not possible while the run is ${state} (possible now: ${allowed.join(', ') || 'none'})`,
    { action, state, possibleActions: allowed },
  );

/** A failure talking to an upstream build system; `upstream` holds its error body (secrets removed). */
export class UpstreamError extends BuildgateError {
  constructor(
    code: ErrorCode,
    readonly providerId: string,
    message: string,
    extra: { status?: number; upstream?: unknown; retryAfterSec?: number; /** the item's key, when the error is about one item */ id?: string } = {},
  ) {
    super(code, `[${providerId}] ${message}`, { providerId, ...extra });
    this.name = 'UpstreamError';
  }
}
