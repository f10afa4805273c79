import type { Command } from 'commander';
import { describeDatabase, loadConfigOrExit } from '../config/index.js';
import { openMigratedStore } from '../store/open.js';
import { ApiKeys } from './api-keys.js';
import { isRole } from './principal.js';

/**
 * Opens the store `serve` would use (same config resolution: file, environment), says
 * which one on stderr, runs `fn` on its keys, closes the store.
 */
async function withKeys<T>(configFile: string | undefined, fn: (keys: ApiKeys) => Promise<T>): Promise<T> {
  const config = loadConfigOrExit(configFile);
  console.error(`buildgate: database ${describeDatabase(config.database.url)}`);
  const store = await openMigratedStore(config.database.url);
  try {
    return await fn(new ApiKeys(store));
  } finally {
    await store.close();
  }
}

/** `buildgate keys create|list|revoke`: API keys live in the gateway's database, so these work on the same config. */
export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('Create, list and revoke API keys (stored hashed in the configured database)');
  keys.command('create')
    .description('Create a key; prints it once on stdout')
    .requiredOption('--role <role>', 'viewer (read, subscribe), operator (+ run, cancel, remove runs) or admin (+ builds, audit)')
    .option('--providers <ids>', 'comma-separated provider instance ids the key may act on (default: all)')
    .option('--name <name>', 'a label to recognise the key by')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (opts: { role: string; providers?: string; name?: string; config?: string }) => {
      if (!isRole(opts.role)) { console.error(`--role must be viewer, operator or admin (got ${opts.role})`); process.exit(2); }
      const providers = opts.providers?.split(',').map((p) => p.trim()).filter(Boolean) ?? null;
      const { key, info } = await withKeys(opts.config, (k) => k.create({ role: opts.role as never, providers, name: opts.name ?? null }));
      console.error(`created key ${info.id} (role ${info.role}${info.providers ? `, providers ${info.providers.join(',')}` : ''}); it is shown only now:`);
      console.log(key);
    });
  keys.command('list')
    .description('List keys (never the keys themselves)')
    .option('-c, --config <file>', 'YAML config file')
    .option('--json', 'JSON output')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const list = await withKeys(opts.config, (k) => k.list());
      if (opts.json) { console.log(JSON.stringify(list, null, 2)); return; }
      console.log(['ID', 'ROLE', 'PROVIDERS', 'NAME', 'CREATED', 'REVOKED'].join('\t'));
      for (const k of list) {
        console.log([k.id, k.role, k.providers?.join(',') ?? '*', k.name ?? '', k.createdAt.toISOString(), k.revokedAt?.toISOString() ?? ''].join('\t'));
      }
    });
  keys.command('revoke <id>')
    .description('Revoke a key: requests with it get 401 from then on')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (id: string, opts: { config?: string }) => {
      if (!(await withKeys(opts.config, (k) => k.revoke(id)))) { console.error(`no key with id ${id}`); process.exit(1); }
      console.error(`revoked key ${id}`);
    });
}
