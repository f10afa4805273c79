import { assertAllowedHost, guardedLookup, isPrivateAddress } from '../src/net/guard.js';

describe('SSRF guard', () => {
  it('knows private, loopback, link-local and mapped addresses from public ones', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
      '::1', '::', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', '::ffff:127.0.0.1']) expect([a, isPrivateAddress(a)]).toEqual([a, true]);
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8']) expect([a, isPrivateAddress(a)]).toEqual([a, false]);
  });

  it('refuses private addresses unless listed by address, CIDR or host name', async () => {
    await expect(assertAllowedHost('127.0.0.1', [])).rejects.toThrow(/127\.0\.0\.1.*allowPrivateHosts/);
    await expect(assertAllowedHost('[::1]', ['127.0.0.1'])).rejects.toThrow(/::1/);
    await expect(assertAllowedHost('10.9.8.7', ['10.0.0.0/8'])).resolves.toEqual(['10.9.8.7']);
    await expect(assertAllowedHost('127.0.0.1', ['127.0.0.1'])).resolves.toEqual(['127.0.0.1']);
    await expect(assertAllowedHost('localhost', [])).rejects.toThrow(/localhost resolves to/);
    await expect(assertAllowedHost('localhost', ['localhost'])).resolves.toEqual(expect.arrayContaining(['127.0.0.1']));
  });

  it('guardedLookup answers like dns.lookup and refuses private answers', async () => {
    const lookup = (allow: string[], all: boolean) => new Promise<unknown>((resolve, reject) =>
      guardedLookup(allow)('localhost', { all }, (err, address, family) => (err ? reject(err) : resolve(all ? address : { address, family }))));
    await expect(lookup([], false)).rejects.toThrow(/private\/loopback/);
    await expect(lookup(['127.0.0.0/8', '::1'], false)).resolves.toEqual({ address: expect.any(String), family: expect.any(Number) });
    await expect(lookup(['127.0.0.0/8', '::1'], true)).resolves.toEqual(expect.arrayContaining([{ address: '127.0.0.1', family: 4 }]));
  });
});
