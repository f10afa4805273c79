import { describe, expect, it } from '@jest/globals';
import { derivedForms, maskUrl, maskUrlsInText, unmaskUrl, urlSecretForms, urlSecrets, urlTarget } from '../../src/secrets/mask.js';

/** The one URL-masking helper every returned URL goes through. */
describe('maskUrl', () => {
  it('masks a password and token-named query values, and nothing else (no normalisation)', () => {
    expect(maskUrl('https://u:p%40ss@h.example:8443/a/b?access_token=T&page=2&API-Key=K&sig=S#frag')).toBe('https://u:***@h.example:8443/a/b?access_token=***&page=2&API-Key=***&sig=***#frag');
    expect(maskUrl('ftp://f:secret@ftp.example')).toBe('ftp://f:***@ftp.example');
    expect(maskUrl('f:secret@ftp.example:21')).toBe('f:***@ftp.example:21'); // FTP host:port form
    for (const plain of ['HTTP://Example.COM', 'ftp.example:21', 'https://git@h/x.git', 'https://h/x?page=&token=', 'https://h/?q=a%20b&flag']) {
      expect(maskUrl(plain)).toBe(plain);
    }
    expect(maskUrl('https://h/?page=1&q=x', { allParams: true })).toBe('https://h/?page=***&q=***');
    expect(maskUrl('https://h/?access%5Ftoken=T')).toBe('https://h/?access%5Ftoken=***'); // the name decoded before it is judged
  });

  it('finds URLs inside text', () => {
    expect(maskUrlsInText('GET https://h/x?token=T failed: connect ECONNREFUSED (see "http://u:p@h2/")')).toBe('GET https://h/x?token=*** failed: connect ECONNREFUSED (see "http://u:***@h2/")');
    expect(maskUrlsInText('no url here')).toBe('no url here');
  });

  it('gives the credential parts for log masking, as written and decoded', () => {
    expect(urlSecrets('https://u:p%40ss@h/?token=a%2Bb&page=1')).toEqual(['p%40ss', 'p@ss', 'a%2Bb', 'a+b']);
    expect(urlSecrets('https://h/x')).toEqual([]);
    // With the wire forms: the Basic header of user:password, written and decoded.
    const b64 = (v: string) => Buffer.from(v).toString('base64').replace(/=+$/, '');
    expect(urlSecretForms('https://u:p%40ss@h/')).toEqual(expect.arrayContaining(['p%40ss', 'p@ss', b64('u:p%40ss'), b64('u:p@ss')]));
    expect(urlSecretForms('https://h/x?page=1')).toEqual([]);
  });

  it('names the target of a URL: scheme and host[:port], case aside', () => {
    expect(urlTarget('HTTPS://U:p@Host.Example:8443/x?y')).toBe('https://host.example:8443');
    expect(urlTarget('ftp.example:21')).toBe('ftp.example:21');
    expect(urlTarget('https://h/x')).not.toBe(urlTarget('http://h/x'));
  });

  it('restores stored credentials only where the URL sent back shows *** for them', () => {
    const stored = 'https://u:pw@h/x?token=T&page=1';
    expect(unmaskUrl('https://u:***@h/x?token=***&page=5', stored)).toBe('https://u:pw@h/x?token=T&page=5');
    expect(unmaskUrl('https://other:***@h/x', stored)).toBe('https://other:***@h/x'); // another user: not the stored password
    expect(unmaskUrl('https://h/x?api_key=***', stored)).toBe('https://h/x?api_key=***'); // no stored value of that name
    expect(unmaskUrl('https://h/x?token=NEW', stored)).toBe('https://h/x?token=NEW');
    expect(unmaskUrl('https://h/x?token=***', undefined)).toBe('https://h/x?token=***');
    // Another host or scheme: the stored credentials do not follow.
    expect(unmaskUrl('https://u:***@elsewhere.example/x?token=***', stored)).toBe('https://u:***@elsewhere.example/x?token=***');
    expect(unmaskUrl('http://u:***@h/x?token=***', stored)).toBe('http://u:***@h/x?token=***');
    expect(unmaskUrl('https://u:***@H/x', stored)).toBe('https://u:pw@H/x');
  });
});

describe('derivedForms', () => {
  it('lists the Basic-auth base64 of user:password, the base64 and the percent-encoding of the secret', () => {
    expect(derivedForms('p@ss word', 'me')).toEqual([
      Buffer.from('p@ss word').toString('base64').replace(/=+$/, ''), 'p%40ss%20word', Buffer.from('me:p@ss word').toString('base64').replace(/=+$/, ''),
    ]);
    expect(derivedForms('plain')).toEqual([Buffer.from('plain').toString('base64').replace(/=+$/, '')]);
  });
});
