import got, { type Method } from 'got';
import { assertAllowedHost, guardedLookup } from '../net/guard.js';

/**
 * A small client for the OCI distribution API (docker-registry, Harbor, Quay, ...): what
 * the native engine needs to show and remove the images its runs pushed. Basic auth and
 * the bearer-token dance (`WWW-Authenticate: Bearer realm=...`) are both handled.
 */

export interface RegistryTarget {
  /** host[:port], as it appears in image references. */
  host: string;
  scheme: 'http' | 'https';
  /** Skip TLS verification (and, for buildah, allow plain HTTP). */
  insecure: boolean;
  username?: string | null;
  /** Secret: sent only in Authorization headers, never in messages. */
  password?: string | null;
}

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  /** Config blob plus all layers, bytes: what the image weighs in the registry. */
  size: number;
  configDigest: string | null;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');
const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

/**
 * Reads a registry as a step config writes it: `http://h:p` is plain HTTP, `https://h`
 * is TLS, a bare `h:p` follows the engine's `insecure` setting (insecure = plain HTTP).
 */
export function parseRegistry(url: string, insecureDefault: boolean): Omit<RegistryTarget, 'username' | 'password'> {
  const m = /^(https?):\/\/([^/]+)\/?$/i.exec(url.trim());
  if (m) {
    const scheme = m[1]!.toLowerCase() as 'http' | 'https';
    return { host: m[2]!, scheme, insecure: scheme === 'http' || insecureDefault };
  }
  const host = url.trim().replace(/\/+$/, '');
  if (!host || /[/\s@]/.test(host)) throw new Error(`registry ${JSON.stringify(url)} is not a host[:port] or http(s)://host[:port]`);
  return { host, scheme: insecureDefault ? 'http' : 'https', insecure: insecureDefault };
}

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string; raw: Buffer }

export class RegistryClient {
  private auth: string | null = null;

  /**
   * `allowPrivateHosts`: set for a registry a build named (not the engine's own): every host
   * contacted, the token service's included, then passes the SSRF guard, pinned to the
   * addresses it checked.
   */
  constructor(readonly target: RegistryTarget, private readonly timeoutMs = 15_000, private readonly allowPrivateHosts: readonly string[] | null = null) {}

  /** got options that keep a guarded client off private addresses; `url` is checked first (an IP literal skips DNS). */
  private async guard(url: string | URL): Promise<{ dnsLookup?: never }> {
    if (!this.allowPrivateHosts) return {};
    await assertAllowedHost(new URL(url).hostname, this.allowPrivateHosts);
    return { dnsLookup: guardedLookup(this.allowPrivateHosts) as never };
  }

  /** Resolves when the registry answers `/v2/` (with our credentials, if it asks for them). */
  async ping(): Promise<void> {
    const r = await this.request('GET', '/v2/', {});
    if (r.status !== 200) throw this.fail('GET /v2/', r);
  }

  /** Tags of a repository; a repository that does not exist (yet) has none. */
  async listTags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let next: string | null = `/v2/${repository}/tags/list?n=1000`;
    while (next) {
      const r = await this.request('GET', next, {}, repository);
      if (r.status === 404) return tags;
      if (r.status !== 200) throw this.fail(`list tags of ${repository}`, r);
      tags.push(...((this.json(r) as { tags?: string[] | null }).tags ?? []));
      // Paging per the distribution spec: `Link: </v2/...?last=x&n=1000>; rel="next"`.
      const link = String(r.headers.link ?? '');
      next = /<([^>]+)>;\s*rel="?next"?/.exec(link)?.[1] ?? null;
    }
    return tags;
  }

  /** Digest and size of a tag (or digest); null when the registry does not know it. */
  async manifest(repository: string, reference: string): Promise<ManifestInfo | null> {
    const r = await this.request('GET', `/v2/${repository}/manifests/${reference}`, { accept: MANIFEST_TYPES }, repository);
    if (r.status === 404) return null;
    if (r.status !== 200) throw this.fail(`manifest ${repository}:${reference}`, r);
    const doc = this.json(r) as {
      mediaType?: string; config?: { size?: number; digest?: string }; layers?: { size?: number }[];
      manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[];
    };
    const mediaType = doc.mediaType ?? String(r.headers['content-type'] ?? '').split(';')[0]!;
    const digest = String(r.headers['docker-content-digest'] ?? '');
    if (INDEX_TYPES.has(mediaType) || doc.manifests) {
      // A multi-platform image: report the linux/amd64 one (or the first), under the index digest.
      const pick = doc.manifests?.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64')
        ?? doc.manifests?.[0];
      const inner = pick ? await this.manifest(repository, pick.digest) : null;
      return inner ? { ...inner, digest: digest || inner.digest, mediaType } : null;
    }
    const size = (doc.config?.size ?? 0) + (doc.layers ?? []).reduce((s, l) => s + (l.size ?? 0), 0);
    return { digest, mediaType, size, configDigest: doc.config?.digest ?? null };
  }

  /** When the image was built (the config blob's `created`), null when it does not say. */
  async created(repository: string, reference: string): Promise<Date | null> {
    const m = await this.manifest(repository, reference);
    if (!m?.configDigest) return null;
    const r = await this.request('GET', `/v2/${repository}/blobs/${m.configDigest}`, {}, repository);
    if (r.status !== 200) throw this.fail(`config blob of ${repository}:${reference}`, r);
    const created = (this.json(r) as { created?: string }).created;
    const date = created ? new Date(created) : null;
    return date && !Number.isNaN(date.getTime()) ? date : null;
  }

  /**
   * Deletes a tag; false when it was not there. Registries that cannot delete by tag
   * (docker-registry 2.x) get the manifest deleted by digest, which would also remove every
   * other tag of that digest: those tags are put back right after, from the same manifest
   * bytes (their blobs stay, so they are pullable again at once; between the two calls a
   * pull of them may miss). The registry must allow deletes
   * (`storage.delete.enabled: true` for docker-registry).
   */
  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const byTag = await this.request('DELETE', `/v2/${repository}/manifests/${tag}`, {}, repository, 'delete');
    if (byTag.status === 202 || byTag.status === 200) return true;
    const digest = await this.digestOf(repository, tag);
    if (!digest) return false;
    const siblings: string[] = [];
    for (const other of await this.listTags(repository)) {
      if (other !== tag && (await this.digestOf(repository, other)) === digest) siblings.push(other);
    }
    const manifest = siblings.length ? await this.request('GET', `/v2/${repository}/manifests/${digest}`, { accept: MANIFEST_TYPES }, repository) : null;
    if (manifest && manifest.status !== 200) throw this.fail(`manifest ${repository}@${digest}`, manifest);
    const r = await this.request('DELETE', `/v2/${repository}/manifests/${digest}`, {}, repository, 'delete');
    if (r.status === 404) return false;
    if (r.status !== 202 && r.status !== 200) throw this.fail(`delete ${repository}:${tag}`, r);
    for (const other of siblings) {
      const contentType = String(manifest!.headers['content-type'] ?? '').split(';')[0]!;
      const put = await this.request('PUT', `/v2/${repository}/manifests/${other}`, { 'content-type': contentType }, repository, 'push', manifest!.raw);
      if (put.status !== 201) throw this.fail(`put back ${repository}:${other} (it shared ${tag}'s manifest)`, put);
    }
    return true;
  }

  /** The digest a tag points at (HEAD), null when the registry does not know the tag. */
  async digestOf(repository: string, reference: string): Promise<string | null> {
    const r = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, { accept: MANIFEST_TYPES }, repository);
    if (r.status === 404) return null;
    if (r.status !== 200) throw this.fail(`manifest ${repository}:${reference}`, r);
    const digest = String(r.headers['docker-content-digest'] ?? '');
    if (digest) return digest;
    return (await this.manifest(repository, reference))?.digest ?? null;
  }

  private async request(method: Method, pathAndQuery: string, headers: Record<string, string>,
    repository?: string, action = 'pull', body?: Buffer): Promise<Reply> {
    let r = await this.send(method, pathAndQuery, headers, body);
    if (r.status === 401) {
      this.auth = await this.authorize(String(r.headers['www-authenticate'] ?? ''), repository, action);
      if (this.auth) r = await this.send(method, pathAndQuery, headers, body);
    }
    return r;
  }

  private async send(method: Method, pathAndQuery: string, headers: Record<string, string>, body?: Buffer): Promise<Reply> {
    const url = `${this.target.scheme}://${this.target.host}${pathAndQuery}`;
    const guard = await this.guard(url);
    try {
      const r = await got(url, {
        ...guard,
        method,
        headers: this.auth ? { ...headers, authorization: this.auth } : headers,
        body,
        // Bytes, not text: a manifest put back must hash to the same digest.
        responseType: 'buffer',
        throwHttpErrors: false,
        retry: { limit: 0 },
        timeout: { request: this.timeoutMs },
        https: { rejectUnauthorized: !this.target.insecure },
      });
      return { status: r.statusCode, headers: r.headers, body: r.body.toString('utf8'), raw: r.body };
    } catch (e) {
      const code = (e as { code?: string }).code ?? (e as Error).message;
      throw new Error(`registry ${this.target.host} is unreachable (${code})`);
    }
  }

  /** The Authorization header a 401 challenge asks for, or null when we have nothing to offer. */
  private async authorize(challenge: string, repository: string | undefined, action: string): Promise<string | null> {
    const { username, password } = this.target;
    const basic = username ? `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` : null;
    if (/^basic/i.test(challenge)) return basic;
    if (!/^bearer/i.test(challenge)) return null;
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (!params.realm) return null;
    const realm = new URL(params.realm);
    if (params.service) realm.searchParams.set('service', params.service);
    const actions = action === 'delete' ? 'delete,pull' : action === 'push' ? 'pull,push' : 'pull';
    const scope = repository ? `repository:${repository}:${actions}` : params.scope;
    if (scope) realm.searchParams.set('scope', scope);
    try {
      const r = await got(realm, {
        ...(await this.guard(realm)),
        headers: basic ? { authorization: basic } : {},
        throwHttpErrors: false, retry: { limit: 0 }, timeout: { request: this.timeoutMs },
        https: { rejectUnauthorized: !this.target.insecure },
      });
      if (r.statusCode !== 200) throw new Error(`token service answered ${r.statusCode}`);
      const body = JSON.parse(r.body) as { token?: string; access_token?: string };
      const token = body.token ?? body.access_token;
      return token ? `Bearer ${token}` : null;
    } catch (e) {
      throw new Error(`registry ${this.target.host}: could not get a token from ${realm.origin} (${(e as Error).message})`);
    }
  }

  private json(r: Reply): unknown {
    try {
      return JSON.parse(r.body);
    } catch {
      throw new Error(`registry ${this.target.host} answered with something that is not JSON`);
    }
  }

  /** An Error naming what failed, the status and the registry's own error codes. */
  private fail(what: string, r: Reply): Error {
    let detail = '';
    try {
      const errors = (JSON.parse(r.body) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
      detail = errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    } catch { /* not a distribution error body */ }
    const hint = r.status === 401 ? ' (credentials missing or wrong)' : r.status === 405 ? ' (operation disabled on this registry)' : '';
    return new Error(`registry ${this.target.host}: ${what} answered ${r.status}${hint}${detail ? `: ${detail}` : ''}`);
  }
}

/**
 * Completes an image name the way docker does, except that a name without a registry
 * resolves against the engine's default registry (there is no Docker Hub here):
 * `gradle` → `<default>/gradle:<tag>`, `reg.example.com/a/b` stays on its registry.
 */
export function resolveImage(imageName: string, imageTag: string | null | undefined, defaultHost: string): { ref: string; host: string } {
  const name = imageName.trim();
  if (!name || /\s/.test(name)) throw new Error(`image name ${JSON.stringify(imageName)} is not valid`);
  const first = name.split('/')[0]!;
  const hasHost = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const host = hasHost ? first : defaultHost;
  const full = hasHost ? name : `${defaultHost}/${name}`;
  if (full.includes('@')) return { ref: full, host }; // pinned by digest: a tag would be ignored anyway
  const lastPart = full.slice(host.length);
  const tag = imageTag?.trim();
  if (lastPart.includes(':')) {
    if (tag && !lastPart.endsWith(`:${tag}`)) throw new Error(`image ${JSON.stringify(imageName)} already has a tag; imageTag ${JSON.stringify(tag)} conflicts`);
    return { ref: full, host };
  }
  return { ref: `${full}:${tag || 'latest'}`, host };
}
