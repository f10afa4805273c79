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

  it('ignores BUILDGATE_* names that are not config, with one warning naming them', () => {
    const warnings: string[] = [];
    const c = loadConfig({ env: { BUILDGATE_TEST_PG_URL: 'postgres://x@y/z', BUILDGATE_DATA_DIR: '/tmp/x', BUILDGATE_SERVER__PORT: '5001' }, warn: (m) => warnings.push(m) });
    expect(c.server.port).toBe(5001);
    expect(c.database.url).toBe('sqlite:./data/buildgate.db');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('BUILDGATE_DATA_DIR, BUILDGATE_TEST_PG_URL');
    const quiet: string[] = [];
    loadConfig({ env: { BUILDGATE_SERVER__PORT: '5001', PORT: '1' }, warn: (m) => quiet.push(m) });
    expect(quiet).toEqual([]);
  });

  it.each([
    [{ BUILDGATE_SERVER__PORT: 'abc' }, 'server.port', 'BUILDGATE_SERVER__PORT'],
    [{ BUILDGATE_SERVER__PORTT: '1' }, 'server.portt', 'BUILDGATE_SERVER__PORTT'],
    [{ PORT: 'abc' }, 'server.port', 'PORT'],
    [{ BUILDGATE_PROVIDERS: '[{"id":"q","kind":"QUAY","baseUrl":"http://x","optionz":{}}]' }, 'providers[0].optionz', 'BUILDGATE_PROVIDERS'],
    [{ BUILDGATE_LIVE__POLL_MS: '5' }, 'live.pollMs', 'BUILDGATE_LIVE__POLL_MS'],
  ])('names the variable behind a bad value: %j', (env, key, variable) => {
    let err: unknown;
    try { loadConfig({ env }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(`${key}:`);
    expect((err as Error).message).toContain(`from ${variable}`);
    expect((err as Error).message).not.toContain('\n');
  });

  it('names the file behind a bad value, and the option', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-cfg-'));
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, 'server:\n  port: 5000\n  hostt: x\n');
    expect(() => loadConfig({ file, env: {} })).toThrow(`server.hostt: unrecognized key (in ${file})`);
    expect(() => loadConfig({ env: {}, overrides: { server: { port: -1 } }, overrideSources: new Map([['server.port', '--port']]) })).toThrow(/server\.port: .*\(from --port\)/);
  });

  it('seeds demo builds only in the embedded default, and lets them reach the gateway itself', () => {
    const embedded = loadConfig({ env: {} });
    expect(embedded.demo.seed).toBe(true);
    expect(embedded.engine.allowPrivateHosts).toEqual(['127.0.0.1']);
    expect(loadConfig({ env: { DATABASE_URL: 'postgres://x@y/z' } }).demo.seed).toBe(false);
    const exposed = loadConfig({ env: { BUILDGATE_SERVER__HOST: '0.0.0.0' } });
    expect(exposed.demo.seed).toBe(false);
    expect(exposed.engine.allowPrivateHosts).toEqual([]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-cfg-'));
    fs.writeFileSync(path.join(dir, 'c.yaml'), 'server: { port: 5000 }\n');
    expect(loadConfig({ file: path.join(dir, 'c.yaml'), env: {} }).demo.seed).toBe(false);
    expect(loadConfig({ file: path.join(dir, 'c.yaml'), env: { BUILDGATE_DEMO__SEED: 'true' } }).demo.seed).toBe(true);
    expect(loadConfig({ env: { BUILDGATE_DEMO__SEED: 'no' } }).engine.allowPrivateHosts).toEqual([]);
  });

  it.each([
    [{ BUILDGATE_SERVER__PORT: 'abc' }, 'server.port'],
    [{ BUILDGATE_SERVER__PORTT: '1' }, 'server.portt'],
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
    expect(() => loadConfig({ file: '/nonexistent/buildgate.yaml', env: {} })).toThrow(/cannot read config file/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-cfg-'));
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'server: [unclosed');
    expect(() => loadConfig({ file: path.join(dir, 'bad.yaml'), env: {} })).toThrow(/not valid YAML/);
  });
});
