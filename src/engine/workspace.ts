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
