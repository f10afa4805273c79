import type { ProviderInstanceConfig } from '../providers/factory.js';

type Fakes = {
  cocktail: Awaited<ReturnType<typeof import('../../test/fakes/cocktail.js').startFakeCocktail>>;
  quay: Awaited<ReturnType<typeof import('../../test/fakes/quay.js').startFakeQuay>>;
  zadig: Awaited<ReturnType<typeof import('../../test/fakes/zadig.js').startFakeZadig>>;
  codearts: Awaited<ReturnType<typeof import('../../test/fakes/codearts.js').startFakeCodeArts>>;
};

/** The fake upstreams started by `--demo-upstreams`, and the provider instances pointing at them. */
export interface DemoUpstreams {
  instances: ProviderInstanceConfig[];
  /** The running fakes (their request logs, state, fault injection). */
  fakes: Fakes;
  urls: Record<keyof Fakes, string>;
  stop(): Promise<void>;
}

export interface DemoUpstreamOptions {
  /** 'demo' (default): runs take seconds so a person can watch them; 'test': a fraction of a second. */
  pace?: 'demo' | 'test';
  /** Overrides for every instance (cacheTtlMs, timeoutMs, retries). */
  instance?: Partial<Pick<ProviderInstanceConfig, 'cacheTtlMs' | 'timeoutMs' | 'retries'>>;
}

/**
 * Starts the fake Cocktail, Quay, Zadig and CodeArts servers of test/fakes (compiled into
 * dist by tsconfig.build.json) on free 127.0.0.1 ports, and describes one provider instance
 * of each kind (`cocktail-demo`, `quay-demo`, `zadig-demo`, `codearts-demo`). The fakes are
 * imported only here and only when asked for, so a normal start never loads test code.
 */
export async function startDemoUpstreams(opts: DemoUpstreamOptions = {}): Promise<DemoUpstreams> {
  // One after the other: Jest's ESM loader fails on concurrent dynamic imports sharing a dependency.
  const cocktail = await import('../../test/fakes/cocktail.js');
  const quay = await import('../../test/fakes/quay.js');
  const zadig = await import('../../test/fakes/zadig.js');
  const codearts = await import('../../test/fakes/codearts.js');
  const fast = opts.pace === 'test';
  const started: Array<{ close(): Promise<void> }> = [];
  const track = <T extends { close(): Promise<void> }>(s: T): T => { started.push(s); return s; };
  try {
    const fakes: Fakes = {
      cocktail: track(await cocktail.startFakeCocktail({ stepMs: fast ? 120 : 3000 })),
      quay: track(await quay.startFakeQuay({ phaseMs: fast ? 100 : 3000 })),
      zadig: track(await zadig.startFakeZadig(fast ? { lineMs: 25, queuedMs: 100, deployMs: 100 } : { lineMs: 800, queuedMs: 2000, deployMs: 3000 })),
      codearts: track(await codearts.startFakeCodeArts(fast ? { queuedMs: 100, stepMs: 120 } : { queuedMs: 2000, stepMs: 4000 })),
    };
    const base = { cacheTtlMs: 2000, timeoutMs: 5000, retries: 1, ...opts.instance };
    const { cocktail: c, quay: q, zadig: z, codearts: a } = fakes;
    const instances: ProviderInstanceConfig[] = [
      { ...base, id: 'cocktail-demo', kind: 'COCKTAIL', baseUrl: c.url, options: { token: c.token } },
      {
        ...base, id: 'quay-demo', kind: 'QUAY', baseUrl: q.url, options: {
          token: q.token,
          repositories: [{ repository: 'demo/web', archiveUrl: `${q.url}/archive/web.tar.gz`, tags: ['latest'] }, 'demo/api'],
        },
      },
      { ...base, id: 'zadig-demo', kind: 'ZADIG', baseUrl: z.url, options: { token: z.token, projectKey: 'demo', workflowKey: 'build-demo', sseIdleMs: 150 } },
      { ...base, id: 'codearts-demo', kind: 'CODEARTS', baseUrl: a.url, options: { token: a.token, projectId: codearts.CODEARTS_PROJECT } },
    ];
    return {
      instances,
      fakes,
      urls: { cocktail: c.url, quay: q.url, zadig: z.url, codearts: a.url },
      stop: async () => { await Promise.allSettled(started.map((s) => s.close())); },
    };
  } catch (e) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw e;
  }
}
