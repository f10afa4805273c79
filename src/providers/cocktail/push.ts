import { badInput } from '../../errors.js';
import type { ProviderPush, PushNotice, PushRequest } from '../types.js';
import { hookUrl, jsonBody, safeEqual, sign } from '../upstream/push.js';
import { buildKeyOf, runKeyOf } from './map.js';

const PATH = /^\/builds\/(\d{1,15})$/;

/**
 * Cocktail calls a run's `callbackUrl` when the run ends (upstreams.md §4; the body's shape is
 * not published). buildgate registers its own URL per run — `/hooks/<id>/builds/<buildSeq>`,
 * with the user's callback URL as `forward` — signed with the provider's webhook secret, so
 * Cocktail holds a signature, never the secret, and neither the build nor the forward
 * target can be changed without it.
 */
export class CocktailCallbacks {
  constructor(private readonly providerId: string, private readonly secret: string, private readonly publicUrl: string) {}

  /** The callback URL registered with a run of `buildSeq`; `forward`: the user's own callback URL. */
  urlFor(buildSeq: number, forward: string | null): string {
    const q = new URLSearchParams();
    if (forward) q.set('forward', forward);
    q.set('sig', sign(this.secret, this.providerId, String(buildSeq), forward ?? ''));
    return `${hookUrl(this.publicUrl, this.providerId, `/builds/${buildSeq}`)}?${q}`;
  }

  /**
   * A callback URL as Cocktail shows it: one of ours stands for the user's own callback (or
   * none); any other is the user's, registered before push was configured.
   */
  shown(url: string | null | undefined): string | null {
    if (!url) return null;
    const ours = this.parse(url);
    return ours ? ours.forward : url;
  }

  /** Ours and correctly signed: the build and the forward target it names. */
  parse(url: string): { buildSeq: number; forward: string | null } | null {
    const prefix = hookUrl(this.publicUrl, this.providerId, '/builds/');
    if (!url.startsWith(prefix)) return null;
    let u: URL;
    try { u = new URL(url); } catch { return null; }
    const m = PATH.exec(u.pathname.slice(u.pathname.lastIndexOf('/builds/')));
    const forward = u.searchParams.get('forward');
    const sig = u.searchParams.get('sig') ?? '';
    if (!m || !safeEqual(sig, sign(this.secret, this.providerId, m[1]!, forward ?? ''))) return null;
    return { buildSeq: Number(m[1]), forward };
  }

  push(settle: (n: PushNotice) => Promise<void>): ProviderPush {
    return {
      authenticate: (req: PushRequest) => {
        const m = PATH.exec(req.path);
        return !!m && safeEqual(req.query.sig ?? '', sign(this.secret, this.providerId, m[1]!, req.query.forward ?? ''));
      },
      notice(req: PushRequest): PushNotice {
        const buildSeq = Number(PATH.exec(req.path)![1]);
        const body = jsonBody(req);
        const one = Array.isArray(body) ? body[0] : body;
        if (one !== null && typeof one !== 'object') throw badInput('a Cocktail callback body is a JSON object (or an array of one)', 'body');
        // The body may name the run (its shape is not published): then only that run's poller is woken.
        const runSeq = (one as Record<string, unknown> | null)?.buildRunSeq;
        const sameBuild = (one as Record<string, unknown> | null)?.buildSeq === undefined || (one as Record<string, unknown>).buildSeq === buildSeq;
        const runKey = Number.isSafeInteger(runSeq) && sameBuild ? runKeyOf({ buildSeq, buildRunSeq: runSeq as number }) : null;
        return { buildKey: buildKeyOf(buildSeq), runKey, event: 'callback' };
      },
      settle,
    };
  }
}
