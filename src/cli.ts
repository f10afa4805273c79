#!/usr/bin/env node
import 'reflect-metadata';
import fs from 'node:fs';
import { Command } from 'commander';
import { printSchema } from 'graphql';
import { ConfigError, describeDatabase, loadConfig, StartupError, startupStep, type ConfigInput } from './config/index.js';
import { LiveHub } from './live/hub.js';
import { createSchema } from './schema/index.js';
import { startServer } from './server/index.js';
import { registerKeyCommands } from './auth/keys-cli.js';
import { registerSecretsCommands } from './store/secrets-cli.js';
import { startAgent } from './engine/agents.js';
import { createLogger } from './server/logger.js';
import { startTracing } from './tracing/sdk.js';

const program = new Command('buildgate').description('GraphQL gateway over many build systems')
  .option('--debug', 'print the stack trace of a failure')
  // A usage mistake is a configuration mistake: exit 2, like a bad config key.
  .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2));

/**
 * Ends the process on a failure: one line saying what failed, why and which config key
 * (exit 2 for configuration and usage, 1 for anything else); the stack only with --debug.
 */
function fail(e: unknown): never {
  if (program.opts<{ debug?: boolean }>().debug) {
    console.error(e instanceof Error ? e.stack ?? e.message : e);
    if (e instanceof Error && e.cause) console.error('caused by:', e.cause); // where it really failed
  } else if (e instanceof StartupError) console.error(`buildgate: ${e.message}`);
  else console.error(`buildgate: ${e instanceof Error ? e.message.split('\n')[0] || e.name : String(e)} (--debug shows the stack trace)`);
  process.exit(e instanceof StartupError ? e.exitCode : 1);
}

program.command('serve')
  .description('Start the gateway (embedded defaults: SQLite file, 127.0.0.1:4000, demo builds)')
  .option('-c, --config <file>', 'YAML config file (default: ./buildgate.config.yaml when present)')
  .option('-p, --port <port>', 'port to listen on')
  .option('--host <host>', 'interface to bind')
  .option('--no-demo', 'do not seed demo builds into an empty store')
  .option('--demo-upstreams', 'start fake Cocktail, Quay, Zadig and CodeArts servers and configure one provider of each')
  .action(async (opts: { config?: string; port?: string; host?: string; demo: boolean; demoUpstreams?: boolean }) => {
    const overrides: ConfigInput = { server: {}, demo: {} };
    const overrideSources = new Map<string, string>();
    if (opts.port) { overrides.server!.port = opts.port as never; overrideSources.set('server.port', '--port'); }
    if (opts.host) { overrides.server!.host = opts.host; overrideSources.set('server.host', '--host'); }
    if (!opts.demo) { overrides.demo!.seed = false; overrideSources.set('demo.seed', '--no-demo'); }
    if (opts.demoUpstreams) { overrides.demo!.upstreams = true; overrideSources.set('demo.upstreams', '--demo-upstreams'); }
    const config = loadConfig({ file: opts.config, overrides, overrideSources });
    const server = await startServer(config);
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
    console.error(`buildgate is up: open ${server.url} in a browser for the playground (database ${describeDatabase(config.database.url)})`);
  });

program.command('agent')
  .description('Run builds for a gateway with engine.runOn: agents: take native runs from the queues of these build servers (default: builds without buildServerHost)')
  .option('-c, --config <file>', 'YAML config file: the same store and redis.url as the gateway')
  .option('-q, --queue <buildServerHost...>', 'build servers whose runs this agent takes ("default": builds without one)')
  .action(async (opts: { config?: string; queue?: string[] }) => {
    const config = loadConfig({ file: opts.config });
    if (!config.redis.url) throw new ConfigError('redis.url: a build agent takes runs from queues on Redis', 'redis.url');
    const logger = createLogger(config.log.level).child({ part: 'agent' });
    // Engine step spans of the runs this agent executes go to the same collector as the gateway's.
    const { otlpEndpoint, headers, serviceName, sampleRatio } = config.tracing;
    const tracing = otlpEndpoint ? await startupStep('cannot start tracing', 'tracing.otlpEndpoint', () => startTracing({ otlpEndpoint, headers, serviceName: `${serviceName}-agent`, sampleRatio })) : null;
    const agent = await startAgent(config, { buildServerHosts: opts.queue ?? [], logger });
    console.error(`buildgate agent is up: taking runs from ${agent.queues.join(', ')} (database ${describeDatabase(config.database.url)})`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'agent shutting down');
      agent.close().then(() => tracing?.shutdown()).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
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

program.parseAsync(process.argv).catch(fail);
