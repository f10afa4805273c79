import type { ImageTagKeptData } from '../model.js';
import type { RunStore } from '../store/run-store.js';
import { parseRegistry, RegistryClient } from './registry.js';

export interface RegistrySettings { host: string; insecure: boolean; username?: string | null; password?: string | null }

/**
 * Deletes from its registry each tag a run pushed, but only while the run still owns it:
 * no newer run pushed the same tag (whatever its digest: a rebuild can be byte-identical),
 * and the registry still has this run's digest under the tag (nobody pushed over it
 * outside buildgate). Otherwise the tag stays and comes back with the reason. Registries
 * have no conditional delete: a push between the digest check and the delete still loses.
 */
export async function deleteOwnedTags(runs: RunStore, runRowId: number, registry: RegistrySettings): Promise<ImageTagKeptData[]> {
  const kept: ImageTagKeptData[] = [];
  const tags = await runs.imageTagsOfRun(runRowId);
  for (const t of tags) {
    const host = hostOf(t.image_url) || registry.host;
    const repository = t.registry_image_path ?? '';
    const image = `${host}/${repository}:${t.tag}`;
    const newer = (await runs.laterPushesOfTag(t, runRowId)).find((o) => (hostOf(o.image_url) || registry.host) === host);
    if (newer) {
      kept.push({ image, reason: 'NEWER_RUN', ownerRunKey: newer.run_id === null ? null : String(newer.run_id), detail: `run ${newer.run_id ?? '(removed)'} pushed it again` });
      continue;
    }
    const client = new RegistryClient({ ...parseRegistry(host, registry.insecure), username: registry.username, password: registry.password });
    const current = await client.digestOf(repository, t.tag);
    if (current === null) continue; // gone already
    if (current !== t.digest) {
      kept.push({ image, reason: 'DIGEST_CHANGED', ownerRunKey: null, detail: `it now points at ${current}, not at the ${t.digest ?? 'unknown digest'} this run pushed` });
      continue;
    }
    await client.deleteTag(repository, t.tag);
  }
  return kept;
}

function hostOf(imageUrl: string | null): string {
  return (imageUrl ?? '').split('/')[0] ?? '';
}
