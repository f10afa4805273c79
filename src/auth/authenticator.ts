import type { Config } from '../config/index.js';
import { BuildgateError, ErrorCode } from '../errors.js';
import type { Store } from '../store/db.js';
import { ApiKeys } from './api-keys.js';
import { JwtVerifier } from './jwt.js';
import { anonymous, anonymousRole, type Principal } from './principal.js';

/** Why a request is refused before any operation runs; `status` is the HTTP status to answer with. */
export class AuthFailure extends BuildgateError {
  constructor(readonly status: 401 | 403, message: string) {
    super(status === 401 ? ErrorCode.UNAUTHENTICATED : ErrorCode.FORBIDDEN, message);
  }
}

/**
 * Turns the `Authorization` value of an HTTP request or of a graphql-ws connection into a
 * Principal. No credential: the configured anonymous role, or 401. A credential that does
 * not verify: always 401, also where anonymous access is allowed (a client that sends a
 * wrong key must learn it, not silently read as anonymous).
 */
export class Authenticator {
  readonly keys: ApiKeys;
  private readonly jwt: JwtVerifier | null;
  private readonly anonymousRole;

  constructor(private readonly config: Config, store: Store) {
    this.keys = new ApiKeys(store);
    this.jwt = config.auth.jwt ? new JwtVerifier(config.auth.jwt) : null;
    this.anonymousRole = anonymousRole(config);
  }

  /** The anonymous principal when no credential is sent and anonymous callers are allowed; else null (ask `authenticate`). */
  anonymousCaller(authorization: unknown, ip: string): Principal | null {
    const none = authorization === undefined || authorization === null || authorization === '';
    return none && this.anonymousRole ? anonymous(this.anonymousRole, ip) : null;
  }

  async authenticate(authorization: unknown, ip: string): Promise<Principal> {
    if (authorization === undefined || authorization === null || authorization === '') {
      if (!this.anonymousRole) throw new AuthFailure(401, 'A credential is required: send "Authorization: Bearer <API key or JWT>"');
      return anonymous(this.anonymousRole, ip);
    }
    if (typeof authorization !== 'string') throw new AuthFailure(401, 'authorization must be a string "Bearer <credential>"');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new AuthFailure(401, 'authorization must be "Bearer <API key or JWT>"');
    const token = m[1]!;
    if (ApiKeys.looksLikeKey(token)) {
      if (!this.config.auth.apiKeys) throw new AuthFailure(401, 'API keys are not accepted by this server');
      const key = await this.keys.verify(token);
      if (!key) throw new AuthFailure(401, 'API key is unknown or revoked');
      return { kind: 'apiKey', id: key.id, role: key.role, providers: key.providers, ip };
    }
    if (!this.jwt) throw new AuthFailure(401, 'credential is not an API key and JWTs are not configured');
    let id;
    try {
      id = await this.jwt.verify(token);
    } catch (e) {
      throw new AuthFailure(401, `JWT refused: ${(e as Error).message}`);
    }
    if (!id.role) throw new AuthFailure(403, `JWT carries no buildgate role (viewer, operator, admin) in claim "${this.config.auth.jwt!.rolesClaim}"`);
    return { kind: 'jwt', id: id.subject, role: id.role, providers: id.providers, ip, ...(id.expiresAt ? { expiresAt: id.expiresAt } : {}) };
  }
}
