import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { badInput } from '../errors.js';

/**
 * Resolves a path from a step config inside the run's workspace. `$PWD` (as the Cocktail
 * model writes host paths) means the workspace. Anything that would land outside it,
 * through `..`, an absolute path or a symlink-free trick, is refused.
 */
export function resolveInWorkspace(workspace: string, p: string | null | undefined, field = 'path'): string {
  const raw = (p ?? '').replace(/^\$PWD(?=\/|$)/, '').replace(/^\$\{PWD\}(?=\/|$)/, '');
  const root = path.resolve(workspace);
  const resolved = path.resolve(root, raw.replace(/^\/+/, ''));
  if (resolved !== root && !resolved.startsWith(root + path.sep)) {
    throw badInput(`${field} ${JSON.stringify(p)} points outside the run's workspace`, field);
  }
  return resolved;
}

/**
 * `resolveInWorkspace` judges the path as text; a directory the build itself created could
 * still be a symlink leading out. This checks the real path of `p` (or of its nearest
 * existing ancestor) against the workspace's real path.
 */
export async function assertRealInWorkspace(workspaceReal: string, p: string, what: string): Promise<void> {
  for (let dir = p; ; dir = path.dirname(dir)) {
    const real = await realpath(dir).catch(() => null);
    if (real === null) continue;
    if (real !== workspaceReal && !real.startsWith(workspaceReal + path.sep)) throw new Error(`${what} leaves the workspace through a symlink`);
    return;
  }
}
