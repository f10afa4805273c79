import { isLoopbackHost, type Config } from '../config/index.js';

/** Roles in rising order: each one may do what the ones before it may. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const roleRank = (r: Role): number => ROLES.indexOf(r);
export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v);

/** Who is asking: the audit log's "who" and the input of every authorization check. */
export interface Principal {
  kind: 'anonymous' | 'apiKey' | 'jwt';
  /** API key id, JWT subject, or "anonymous". */
  id: string;
  role: Role;
  /** Provider instance ids this credential may act on; null: all. */
  providers: readonly string[] | null;
  /** Client address, for per-IP rate limits of anonymous callers. */
  ip: string;
  /** JWTs: when the token stops being accepted (ms since the epoch); open sockets are closed then. */
  expiresAt?: number;
}

// Bound to loopback: only local processes can connect, so reading without a credential is safe.
export { isLoopbackHost };

/** The role of requests without a credential, or null when they are refused. */
export function anonymousRole(config: Config): Role | null {
  const a = config.auth.anonymous ?? (isLoopbackHost(config.server.host) ? 'viewer' : 'none');
  return a === 'none' ? null : a;
}

export const anonymous = (role: Role, ip: string): Principal => ({ kind: 'anonymous', id: 'anonymous', role, providers: null, ip });

/** How audit entries and logs name a principal: "apiKey:3f9c...", "jwt:alice", "anonymous". */
export const actorOf = (p: Principal): string => (p.kind === 'anonymous' ? 'anonymous' : `${p.kind}:${p.id}`);
