import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';

/**
 * One provider template (issue 13 item 9): every upstream provider folder has the same files
 * with the same roles, and the schema reaches a provider-specific operation one way — the
 * typed extension the registry hands out — never by the provider's class or kind.
 */
const PROVIDERS = path.resolve('src/providers');
const UPSTREAMS = ['cocktail', 'quay', 'zadig', 'codearts'];
const ROLES = {
  'index.ts': 'the factory and what the folder exports',
  'provider.ts': 'the class implementing Provider',
  'options.ts': 'the zod schema of the instance options',
  'wire.ts': 'the upstream wire format',
  'map.ts': 'wire -> model',
};

const read = (f: string) => fs.readFileSync(f, 'utf8');
function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('provider folders', () => {
  it.each(UPSTREAMS)('%s has index, provider, options, wire and map, each in its role', (kind) => {
    const dir = path.join(PROVIDERS, kind);
    expect(Object.keys(ROLES).filter((f) => !fs.existsSync(path.join(dir, f)))).toEqual([]);
    const index = read(path.join(dir, 'index.ts'));
    expect(index).toMatch(/export const create\w+Provider: ProviderFactory = /);
    expect(index).not.toMatch(/\bclass\s/);
    expect(read(path.join(dir, 'provider.ts'))).toMatch(/export class \w+Provider implements Provider\b/);
    expect(read(path.join(dir, 'options.ts'))).toMatch(/z\.(strict)?[oO]bject\(/);
  });

  it('the native adapter has the same index / provider split', () => {
    expect(read(path.join(PROVIDERS, 'native', 'provider.ts'))).toMatch(/export class NativeProvider implements Provider\b/);
    expect(read(path.join(PROVIDERS, 'native', 'index.ts'))).not.toMatch(/\bclass\s/);
  });

  it('the schema knows providers only through the contract and the registry: no provider folder import, no instanceof, no kind check, no method by name', () => {
    const offending: string[] = [];
    for (const f of files(path.resolve('src/schema')).filter((x) => x.endsWith('.ts'))) {
      const text = read(f);
      const rel = path.relative(process.cwd(), f);
      if (/from '\.\.\/\.\.\/providers\/(cocktail|quay|zadig|codearts|native)\//.test(text)) offending.push(`${rel}: imports a provider folder`);
      if (/instanceof \w+Provider\b/.test(text)) offending.push(`${rel}: instanceof a provider class`);
      if (/\.kind\s*[!=]==\s*'(COCKTAIL|QUAY|ZADIG|CODEARTS|NATIVE)'/.test(text)) offending.push(`${rel}: checks a provider kind`);
      if (/as unknown as Record<string, unknown>\)\[/.test(text)) offending.push(`${rel}: calls a provider method by name`);
    }
    expect(offending).toEqual([]);
  });

  it('provider-specific operations are typed extensions of the contract', () => {
    const types = read(path.join(PROVIDERS, 'types.ts'));
    expect(types).toMatch(/readonly extensions\?: ProviderExtensions/);
    expect(read(path.join(PROVIDERS, 'quay', 'provider.ts'))).toMatch(/extensions: ProviderExtensions = \{ repositoryBuilds:/);
    expect(read(path.join(PROVIDERS, 'zadig', 'provider.ts'))).toMatch(/extensions: ProviderExtensions = \{\s*zadigBuildModules:/);
    // The Zadig wire conversion lives in the provider's folder, not in the resolver.
    expect(read(path.resolve('src/schema/zadig/zadig.resolver.ts'))).not.toMatch(/snake|toZadigBody/);
  });
});
