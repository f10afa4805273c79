import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, envOverrides, loadConfig } from '../src/config/index.js';

describe('configuration', () => {
  it('needs no file: embedded defaults', () => {
    const c = loadConfig({ env: {} , file: undefined });
    expect(c.server).toMatchObject({ host: '127.0.0.1', port: 4000, playground: true });
    expect(c.database.url).toBe('sqlite:./data/buildgate.db');
    expect(c.redis.url).toBeUndefined();
    expect(c.providers).toEqual([]);
  });

  it('reads a YAML file, then environment overrides win', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-cfg-'));
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, 'server:\n  port: 5000\n  playground: false\nengine:\n  maxConcurrentRuns: 4\n');
    const c = loadConfig({ file, env: { BUILDGATE_SERVER__PORT: '6000', BUILDGATE_ENGINE__ALLOW_PRIVATE_HOSTS: '["127.0.0.1"]', DATABASE_URL: 'postgres://x@y/z', BUILDGATE_DEMO__SEED: 'false' } });
    expect(c.server.port).toBe(6000);
    expect(c.server.playground).toBe(false);
    expect(c.engine.maxConcurrentRuns).toBe(4);
    expect(c.engine.allowPrivateHosts).toEqual(['127.0.0.1']);
    expect(c.database.url).toBe('postgres://x@y/z');
    expect(c.demo.seed).toBe(false);
  });

  it('maps env names to nested camelCase keys', () => {
    expect(envOverrides({ BUILDGATE_ENGINE__MAX_LOG_LINE_LENGTH: '100', OTHER: 'x' })).toEqual({ engine: { maxLogLineLength: '100' } });
  });

  it.each([
    [{ BUILDGATE_SERVER__PORT: 'abc' }, 'server.port'],
    [{ BUILDGATE_SERVER__PORTT: '1' }, 'server'],
    [{ BUILDGATE_LOG__LEVEL: 'loud' }, 'log.level'],
    [{ BUILDGATE_PROVIDERS: '[{"id":"Bad Id","kind":"QUAY","baseUrl":"http://x"}]' }, 'providers[0].id'],
    [{ BUILDGATE_PROVIDERS: '[{"id":"q","kind":"NOPE","baseUrl":"http://x"}]' }, 'providers[0].kind'],
    [{ BUILDGATE_DEMO__SEED: 'maybe' }, 'demo.seed'],
  ])('refuses %j with an error naming %s', (env, key) => {
    let err: unknown;
    try { loadConfig({ env }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(`${key}:`);
  });

  it('names a missing or broken file', () => {
    expect(() => loadConfig({ file: '/nonexistent/buildgate.yaml', env: {} })).toThrow(/Cannot read config file/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-cfg-'));
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'server: [unclosed');
    expect(() => loadConfig({ file: path.join(dir, 'bad.yaml'), env: {} })).toThrow(/not valid YAML/);
  });
});
