import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { describeDatabase, loadConfigOrExit } from '../config/index.js';
import { openSecrets } from './crypto.js';
import { openMigratedStore } from './open.js';

/**
 * `buildgate secrets new-key|seal`: make a key for `secrets.key`, and re-seal the store with
 * the configured key without starting a gateway (what every start does too) — the last
 * step of a rotation once every process runs with the new key.
 */
export function registerSecretsCommands(program: Command): void {
  const secrets = program.command('secrets').description('Keys of the credentials sealed in the store (see docs/production.md, "Secrets at rest")');
  secrets.command('new-key')
    .description('Print a new random key (base64 of 32 bytes) for secrets.key / BUILDGATE_SECRETS__KEY')
    .action(() => { console.log(randomBytes(32).toString('base64')); });
  secrets.command('seal')
    .description('Seal every stored secret with the current key (values sealed with secrets.previousKeys or stored in plain text)')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (opts: { config?: string }) => {
      const config = loadConfigOrExit(opts.config);
      console.error(`buildgate: database ${describeDatabase(config.database.url)}`);
      const store = await openMigratedStore(config.database.url);
      try {
        const { box, sealed } = await openSecrets(store.db, config.secrets, config.database.url);
        console.error(`${sealed} value(s) sealed again; every stored secret is now sealed with key ${box.keyId}`);
      } catch (e) {
        console.error((e as Error).message);
        process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}
