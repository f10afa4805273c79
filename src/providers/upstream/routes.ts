/**
 * Names an upstream request by its route template (`/v1/build/:buildSeq/runs`), never by the
 * raw URL: metric labels and span names must stay a bounded set whatever ids the calls carry.
 * Each adapter lists the routes it calls; `:name` matches one path segment. A path that
 * matches none is "other", a URL outside the upstream's origin (a pre-signed log link) "foreign".
 */
export class RouteNames {
  private readonly routes: Array<{ template: string; parts: string[] }>;

  constructor(templates: readonly string[], private readonly basePath: string) {
    this.routes = templates.map((template) => ({ template, parts: split(template) }));
  }

  of(url: URL, origin: string): string {
    if (url.origin !== origin) return 'foreign';
    let path = url.pathname;
    if (this.basePath && path.startsWith(this.basePath)) path = path.slice(this.basePath.length);
    const parts = split(path);
    const trailing = path.endsWith('/');
    for (const r of this.routes) {
      if (r.parts.length !== parts.length || r.template.endsWith('/') !== trailing) continue;
      if (r.parts.every((p, i) => p.startsWith(':') ? parts[i] !== '' : p === parts[i])) return r.template;
    }
    return 'other';
  }
}

const split = (path: string) => path.split('/').filter((s) => s !== '');
