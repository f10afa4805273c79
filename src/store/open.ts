import { startupStep } from '../config/index.js';
import { maskUrl } from '../secrets/mask.js';
import { openStore, type Store } from './db.js';
import { migrateToLatest } from './migrations.js';

/**
 * Opens the store named by `database.url` and migrates it, as `serve`, `agent` and `keys`
 * all do. A store that cannot be opened is closed again and the failure is a one-line
 * StartupError naming `database.url`.
 */
export function openMigratedStore(url: string, opts: { pgSchema?: string } = {}): Promise<Store> {
  return startupStep(`cannot open the store ${maskUrl(url)}`, 'database.url', async () => {
    const store = openStore(url, opts);
    try {
      await migrateToLatest(store.db, store.dialect);
    } catch (e) {
      await store.close().catch(() => {});
      throw e;
    }
    return store;
  });
}
