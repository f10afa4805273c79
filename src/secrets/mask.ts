/**
 * Credentials inside URLs and the forms a secret takes on the wire. One place decides what
 * of a URL is a credential — the password of `user:password@` and query parameters named
 * like tokens — for every URL buildgate returns (queries, events, audit, logs).
 */
export const MASK = '***';

/** Query parameters whose values are credentials. */
const SECRET_PARAM = /token|secret|passw|pwd|api[-_]?key|^key$|^sig$|signature|credential|^auth$|authorization|session/i;

interface UrlParts {
  /** `scheme://` or '' (host:port forms such as FTP's). */
  scheme: string;
  user: string | null;
  password: string | null;
  /** host[:port] and path. */
  host: string;
  path: string;
  /** null: no `?`. */
  params: Array<[name: string, value: string | null]> | null;
  /** `#...` or ''. */
  fragment: string;
}

function parse(url: string): UrlParts {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/is.exec(url)!;
  const authority = m[2]!;
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : null;
  const colon = userinfo?.indexOf(':') ?? -1;
  return {
    scheme: m[1] ?? '',
    user: userinfo === null ? null : colon >= 0 ? userinfo.slice(0, colon) : userinfo,
    password: userinfo !== null && colon >= 0 ? userinfo.slice(colon + 1) : null,
    host: at >= 0 ? authority.slice(at + 1) : authority,
    path: m[3]!,
    params: m[4] === undefined ? null : m[4].slice(1).split('&').map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? [p, null] : [p.slice(0, eq), p.slice(eq + 1)];
    }),
    fragment: m[5] ?? '',
  };
}

function format(u: UrlParts): string {
  const userinfo = u.user === null ? '' : `${u.user}${u.password === null ? '' : `:${u.password}`}@`;
  const query = u.params === null ? '' : `?${u.params.map(([n, v]) => (v === null ? n : `${n}=${v}`)).join('&')}`;
  return `${u.scheme}${userinfo}${u.host}${u.path}${query}${u.fragment}`;
}

const decode = (s: string) => { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; } };
const isSecretParam = (name: string) => SECRET_PARAM.test(decode(name));

/**
 * The URL with its password and token-named query values replaced by `***`, otherwise
 * unchanged (no normalisation). `allParams`: every query value (for log lines, where a
 * value's name says too little).
 */
export function maskUrl(url: string, opts: { allParams?: boolean } = {}): string {
  const u = parse(url);
  let changed = false;
  if (u.password) { u.password = MASK; changed = true; }
  if (u.params) {
    u.params = u.params.map(([n, v]) => {
      if (v === null || v === '' || !(opts.allParams || isSecretParam(n))) return [n, v];
      changed = true;
      return [n, MASK];
    });
  }
  return changed ? format(u) : url;
}

/** Every URL in a text (error messages, arguments) masked as `maskUrl` does. */
export function maskUrlsInText(text: string): string {
  return text.includes('://') ? text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi, (u) => maskUrl(u)) : text;
}

/** The credential parts of a URL, as written and decoded (for masking log lines). */
export function urlSecrets(url: string): string[] {
  const u = parse(url);
  const raw = [u.password ?? '', ...(u.params ?? []).filter(([n, v]) => v && isSecretParam(n)).map(([, v]) => v!)];
  return raw.filter((v) => v !== '' && v !== MASK).flatMap((v) => [v, decode(v)]);
}

/** Where a URL leads: its scheme and host[:port], lower-cased ('' scheme for host:port forms). */
export function urlTarget(url: string): string {
  const u = parse(url.trim());
  return `${u.scheme}${u.host}`.toLowerCase();
}

/**
 * urlSecrets with the forms the password takes on the wire (derivedForms: the Basic-auth
 * header an HTTP client makes of the URL's `user:password`), as written and decoded.
 */
export function urlSecretForms(url: string): string[] {
  const u = parse(url);
  const out = urlSecrets(url);
  if (u.password && u.password !== MASK) {
    out.push(...derivedForms(u.password, u.user), ...derivedForms(decode(u.password), decode(u.user ?? '')));
  }
  return [...new Set(out)];
}

/**
 * A URL sent back as it was read (`***` in place of credentials) keeps the stored
 * credentials: the password when the user is the same, each masked query value from the
 * stored parameter of that name — only towards the same scheme and host, so that editing
 * the host cannot send a stored credential somewhere else. Anything else the caller wrote wins.
 */
export function unmaskUrl(input: string, stored: string | undefined): string {
  if (!stored || !input.includes(MASK) || urlTarget(input) !== urlTarget(stored)) return input;
  const u = parse(input);
  const prev = parse(stored);
  if (u.password === MASK && prev.password && u.user === prev.user) u.password = prev.password;
  if (u.params) {
    u.params = u.params.map(([n, v]) => {
      if (v !== MASK) return [n, v];
      const old = prev.params?.find(([pn, pv]) => pn === n && pv !== null);
      return [n, old ? old[1] : v];
    });
  }
  return format(u);
}

/**
 * How a secret can show up in a log besides itself: `user:password` as a Basic-auth
 * header carries it, base64-encoded alone (some protocols' debug output), percent-encoded
 * (inside a URL).
 */
export function derivedForms(secret: string, user?: string | null): string[] {
  // Unpadded: the padding is all that varies with what follows the value.
  const b64 = (s: string) => Buffer.from(s).toString('base64').replace(/=+$/, '');
  const out = [b64(secret), encodeURIComponent(secret)];
  if (user) out.push(b64(`${user}:${secret}`));
  return out.filter((v) => v !== secret);
}

/** Replaces every occurrence of each secret value by ***. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 3 && out.includes(s)) out = out.split(s).join(MASK);
  return out;
}
