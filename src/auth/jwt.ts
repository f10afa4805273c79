import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { isRole, roleRank, type Role } from './principal.js';

export interface JwtSettings {
  jwksUrl: string;
  issuer: string;
  audience: string;
  rolesClaim: string;
  providersClaim: string;
}

export interface JwtIdentity { subject: string; role: Role | null; providers: string[] | null; expiresAt?: number }

/** Seconds of clock skew between the identity provider and this server that verification forgives. */
export const JWT_CLOCK_TOLERANCE_SEC = 30;

/** `a.b.c` into nested claims: identity providers put roles in namespaced or nested claims. */
function claim(payload: JWTPayload, path: string): unknown {
  if (path in payload) return payload[path];
  let node: unknown = payload;
  for (const seg of path.split('.')) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
  return node;
}

const strings = (v: unknown): string[] =>
  typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * Verifies bearer JWTs against a JWKS (fetched and cached by jose, refetched on an unknown
 * `kid`), the configured issuer and audience, and expiry. Role: the highest buildgate role
 * named in the roles claim.
 */
export class JwtVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  constructor(private readonly s: JwtSettings) {
    this.jwks = createRemoteJWKSet(new URL(s.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  }

  /** Throws with a short reason (never the token) when the token is not acceptable. */
  async verify(token: string): Promise<JwtIdentity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, { issuer: this.s.issuer, audience: this.s.audience, clockTolerance: JWT_CLOCK_TOLERANCE_SEC }));
    } catch (e) {
      throw new Error(reason(e));
    }
    if (!payload.sub) throw new Error('token has no subject');
    const roles = strings(claim(payload, this.s.rolesClaim)).filter(isRole);
    const role = roles.length ? roles.reduce((a, b) => (roleRank(b) > roleRank(a) ? b : a)) : null;
    const providers = claim(payload, this.s.providersClaim);
    const expiresAt = typeof payload.exp === 'number' ? (payload.exp + JWT_CLOCK_TOLERANCE_SEC) * 1000 : undefined;
    return { subject: payload.sub, role, providers: providers === undefined ? null : strings(providers), expiresAt };
  }
}

function reason(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'token expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `token claim ${e.claim} is not acceptable`;
  if (e instanceof joseErrors.JWKSNoMatchingKey || e instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature does not verify';
  if (e instanceof joseErrors.JWKSTimeout || e instanceof joseErrors.JOSEError && e.code === 'ERR_JWKS_INVALID') return 'signing keys unavailable';
  return 'token is not a valid JWT';
}
