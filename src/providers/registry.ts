import { BuildgateError, ErrorCode, unsupported } from '../errors.js';
import { tracingOn } from '../tracing/index.js';
import { batchReads, type BatchReads } from './batch.js';
import { tracedProvider } from './traced.js';
import type { Capability, Provider, ProviderExtensionName, ProviderExtensions } from './types.js';

type Method = {
  [K in keyof Provider]-?: NonNullable<Provider[K]> extends (...args: any[]) => any ? K : never
}[keyof Provider];

/** The configured provider instances, by id. Resolvers reach providers only through here. */
export class ProviderRegistry {
  private readonly byId = new Map<string, Provider>();
  private readonly batches = new Map<string, BatchReads>();

  constructor(providers: Provider[]) {
    for (const p of providers) {
      if (this.byId.has(p.id)) throw new Error(`Two providers share the id "${p.id}"`);
      this.byId.set(p.id, tracingOn() ? tracedProvider(p) : p);
    }
  }

  all(): Provider[] {
    return [...this.byId.values()];
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): Provider {
    const p = this.byId.get(id);
    if (!p) throw new BuildgateError(ErrorCode.NOT_FOUND, `No provider "${id}" is configured`, { providerId: id });
    return p;
  }

  /**
   * Returns the provider's method bound to it, or throws UNSUPPORTED_BY_PROVIDER naming
   * the operation when the instance lacks the capability or the method.
   */
  method<M extends Method>(providerId: string, name: M, capability: Capability): NonNullable<Provider[M]> {
    const p = this.get(providerId);
    const fn = p[name] as unknown;
    if (!p.capabilities.has(capability) || typeof fn !== 'function') throw unsupported(p.id, String(name));
    return (fn as (...a: unknown[]) => unknown).bind(p) as NonNullable<Provider[M]>;
  }

  /**
   * The provider's extension `name` (a provider-specific operation set), or UNSUPPORTED_BY_PROVIDER
   * naming `operation` when the provider has none by that name. Every provider-specific
   * mutation reaches its provider this one way.
   */
  extension<N extends ProviderExtensionName>(providerId: string, name: N, operation: string): NonNullable<ProviderExtensions[N]> {
    const p = this.get(providerId);
    const ext = p.extensions?.[name];
    if (!ext) throw unsupported(p.id, operation);
    return ext as NonNullable<ProviderExtensions[N]>;
  }

  /** The provider's batch reads (its own, or the generic one-key-at-a-time fallback). */
  reads(providerId: string): BatchReads {
    let r = this.batches.get(providerId);
    if (!r) this.batches.set(providerId, r = batchReads(this.get(providerId)));
    return r;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all().map((p) => p.close?.()));
  }
}
