#!/usr/bin/env node
import 'reflect-metadata';
import fs from 'node:fs';
import { Command } from 'commander';
import { printSchema } from 'graphql';
import { ConfigError, loadConfig, type ConfigInput } from './config/index.js';
import { LiveHub } from './live/hub.js';
import { createSchema } from './schema/index.js';
import { startServer } from './server/index.js';
import { registerKeyCommands } from './auth/keys-cli.js';
import { registerSecretsCommands } from './store/secrets-cli.js';
import { startAgent } from './engine/agents.js';
import { createLogger } from './server/logger.js';

const program = new Command('buildgate').description('GraphQL gateway over many build systems');

program.command('serve')
  .description('Start the gateway (embedded defaults: SQLite file, 127.0.0.1:4000, demo builds)')
  .option('-c, --config <file>', 'YAML config file (default: ./buildgate.config.yaml when present)')
  .option('-p, --port <port>', 'port to listen on')
  .option('--host <host>', 'interface to bind')
  .option('--no-demo', 'do not seed demo builds into an empty store')
  .option('--demo-upstreams', 'start fake Cocktail, Quay, Zadig and CodeArts servers and configure one provider of each')
  .action(async (opts: { config?: string; port?: string; host?: string; demo: boolean; demoUpstreams?: boolean }) => {
    const overrides: ConfigInput = { server: {}, demo: {} };
    if (opts.port) overrides.server!.port = Number(opts.port);
    if (opts.host) overrides.server!.host = opts.host;
    if (!opts.demo) overrides.demo!.seed = false;
    if (opts.demoUpstreams) overrides.demo!.upstreams = true;
    let config;
    try {
      config = loadConfig({ file: opts.config, overrides });
    } catch (e) {
      if (e instanceof ConfigError) { console.error(e.message); process.exit(2); }
      throw e;
    }
    const server = await startServer(config);
    console.error(`buildgate is up: open ${server.url} in a browser for the playground`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      server.services.logger.info({ signal }, 'shutting down');
      const timer = setTimeout(() => { server.services.logger.error('shutdown timed out'); process.exit(1); }, config.server.shutdownGraceSec * 1000 + 2000);
      timer.unref();
      server.close().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

program.command('agent')
  .description('Run builds for a gateway with engine.runOn: agents: take native runs from the queues of these build servers (default: builds without buildServerHost)')
  .option('-c, --config <file>', 'YAML config file: the same store and redis.url as the gateway')
  .option('-q, --queue <buildServerHost...>', 'build servers whose runs this agent takes ("default": builds without one)')
  .action(async (opts: { config?: string; queue?: string[] }) => {
    let config;
    try {
      config = loadConfig({ file: opts.config });
      if (!config.redis.url) throw new ConfigError('redis.url: a build agent takes runs from queues on Redis');
    } catch (e) {
      if (e instanceof ConfigError) { console.error(e.message); process.exit(2); }
      throw e;
    }
    const logger = createLogger(config.log.level).child({ part: 'agent' });
    const agent = await startAgent(config, { buildServerHosts: opts.queue ?? [], logger });
    console.error(`buildgate agent is up: taking runs from ${agent.queues.join(', ')}`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'agent shutting down');
      agent.close().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

program.command('schema')
  .description('Print the GraphQL schema (SDL)')
  .option('-o, --out <file>', 'write to a file instead of stdout')
  .action(async (opts: { out?: string }) => {
    const sdl = printSchema(await createSchema(new LiveHub().pubSub)) + '\n';
    if (opts.out) fs.writeFileSync(opts.out, sdl);
    else process.stdout.write(sdl);
  });

registerKeyCommands(program);
registerSecretsCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
