import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { promisify } from 'node:util';

/**
 * Outbound fetches made on a user's behalf (git clone, HTTP step, FTP) must not reach the
 * gateway's own network: a build definition would otherwise be a way to scan or call
 * internal services (SSRF). The check runs on the addresses a name resolves to, not on the
 * name, and callers connect to exactly the addresses that were checked, so a DNS answer that
 * changes between check and connect (rebinding) gains nothing.
 */

const lookupAll = promisify(dnsLookup);

/** Loopback, private, link-local, CGNAT, multicast and reserved ranges (RFC 6890 and friends). */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32],
  ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) PRIVATE.addSubnet(net, prefix, 'ipv6');

export class HostNotAllowedError extends Error {
  override name = 'HostNotAllowedError';
}

/** `::ffff:10.0.0.1` is 10.0.0.1 to the kernel: judge the embedded IPv4 address. */
function normalize(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

export function isPrivateAddress(address: string): boolean {
  const n = normalize(address);
  return PRIVATE.check(n.address, n.family);
}

/** Entries of `allowPrivateHosts`: a host name, an IP address or a CIDR ("10.1.0.0/16"). */
function allowList(allow: readonly string[]): { names: Set<string>; nets: BlockList } {
  const names = new Set<string>();
  const nets = new BlockList();
  for (const entry of allow) {
    const [net, prefix] = entry.trim().split('/');
    const family = isIP(net ?? '');
    if (family === 0) { names.add(entry.trim().toLowerCase()); continue; }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) nets.addAddress(net!, type);
    else nets.addSubnet(net!, Number(prefix), type);
  }
  return { names, nets };
}

function checkAddresses(host: string, addresses: readonly string[], allow: readonly string[]): void {
  const { names, nets } = allowList(allow);
  if (names.has(host.toLowerCase())) return;
  for (const a of addresses) {
    const n = normalize(a);
    if (PRIVATE.check(n.address, n.family) && !nets.check(n.address, n.family)) {
      throw new HostNotAllowedError(
        `host ${host} resolves to ${a}, a private/loopback/link-local address; ` +
        `the engine setting allowPrivateHosts must list it to allow this`,
      );
    }
  }
}

/** Strips the brackets URLs put around IPv6 literals. */
const bare = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

/**
 * Resolves `host` (all addresses, v4 and v6) and throws HostNotAllowedError when any of
 * them is private and not allowed. Returns the addresses, first one to connect to first.
 */
export async function assertAllowedHost(host: string, allow: readonly string[]): Promise<string[]> {
  const h = bare(host);
  if (!h) throw new HostNotAllowedError('no host given');
  const addresses = isIP(h) ? [h] : (await lookupAll(h, { all: true, verbatim: true })).map((r) => r.address);
  if (addresses.length === 0) throw new HostNotAllowedError(`host ${h} does not resolve`);
  checkAddresses(h, addresses, allow);
  return addresses;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A drop-in for `dns.lookup` (as `http.request({lookup})` / got's `dnsLookup` call it) that
 * refuses private answers: the check happens on the very addresses the socket will use.
 */
export function guardedLookup(allow: readonly string[]) {
  return (hostname: string, options: LookupOptions | ((...a: never[]) => void), callback?: LookupCallback): void => {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
    const opts: LookupOptions = typeof options === 'function' ? {} : options;
    dnsLookup(hostname, { ...opts, all: true }, (err, results) => {
      if (err) return cb(err, '');
      try {
        checkAddresses(hostname, results.map((r) => r.address), allow);
      } catch (e) {
        return cb(e as NodeJS.ErrnoException, '');
      }
      if (opts.all) return cb(null, results);
      const first = results[0]!;
      cb(null, first.address, first.family);
    });
  };
}
