import type express from 'express';
import { isLoopbackHost } from '../config/index.js';

/**
 * DNS rebinding guard. A page at http://evil.example:4000 whose name the attacker re-points at
 * 127.0.0.1 is, to the browser, same-origin with this gateway: the Origin check passes and the
 * page reads what anonymous loopback callers may read. The Host header still names the
 * attacker's domain, so a gateway bound to loopback answers only Host names that are loopback
 * (or listed in `server.allowedHosts`). Bound elsewhere, the operator's proxy picks the names;
 * a non-empty list restricts them there too. No Host header (HTTP/1.0, not a browser) passes.
 */
export function hostAllowed(hostHeader: string | undefined, bindHost: string, allowed: readonly string[]): boolean {
  if (hostHeader === undefined || hostHeader === '' || allowed.includes('*')) return true;
  const name = hostnameOf(hostHeader);
  if (name === null) return false;
  if (isLoopbackHost(name) || allowed.some((a) => a.toLowerCase() === name)) return true;
  return !isLoopbackHost(bindHost) && allowed.length === 0;
}

/** "Example.com:4000" → "example.com", "[::1]:4000" → "::1"; null when it is not a host. */
function hostnameOf(host: string): string | null {
  try {
    const h = new URL(`http://${host}`).hostname.toLowerCase();
    return h.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return null;
  }
}

export function hostGuard(bindHost: string, allowed: readonly string[]): express.RequestHandler {
  return (req, res, next) => {
    if (hostAllowed(req.headers.host, bindHost, allowed)) next();
    else res.status(403).json({ errors: [{ message: 'Host not allowed (server.allowedHosts)', extensions: { code: 'HOST_NOT_ALLOWED' } }] });
  };
}
