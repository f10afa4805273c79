import { lstat, mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { badInput } from '../errors.js';

/**
 * Resolves a path from a step config inside the run's workspace, as text. `$PWD` (as the
 * Cocktail model writes host paths) means the workspace. Anything that would land outside
 * it through `..` or an absolute path is refused. Symlinks are not looked at: steps use
 * `workspacePath`, which does this first; build validation uses this alone (no files yet).
 */
export function resolveInWorkspace(workspace: string, p: string | null | undefined, field = 'path'): string {
  const raw = (p ?? '').replace(/^\$PWD(?=\/|$)/, '').replace(/^\$\{PWD\}(?=\/|$)/, '');
  const root = path.resolve(workspace);
  const resolved = path.resolve(root, raw.replace(/^\/+/, ''));
  if (!inside(root, resolved)) {
    throw badInput(`${field} ${JSON.stringify(p)} points outside the run's workspace`, field);
  }
  return resolved;
}

const inside = (root: string, p: string) => p === root || p.startsWith(root + path.sep);

/**
 * The path a step must use for a workspace path of its config. After the text check of
 * `resolveInWorkspace`, every existing component is resolved for real: the repository a
 * step cloned (or a command it ran) may hold symlinks, and one leading out of the
 * workspace (`ln -s /etc conf`) is refused; one staying inside is followed. A dangling
 * symlink is refused too: writing through it would create its target, wherever that is.
 * Missing components are created as directories with `create: 'dir'` (one at a time, each
 * checked), else left as they are. The result is a real path, so that nothing reads a
 * symlink again after the check.
 */
export async function workspacePath(workspace: string, p: string | null | undefined, field: string, opts: { create?: 'dir' } = {}): Promise<string> {
  const lexical = resolveInWorkspace(workspace, p, field);
  const root = await realpath(workspace);
  const parts = path.relative(path.resolve(workspace), lexical).split(path.sep).filter(Boolean);
  let current = root;
  for (let i = 0; i < parts.length;) {
    const next = path.join(current, parts[i]!);
    const st = await lstat(next).catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return null; throw e; });
    if (!st) {
      if (opts.create !== 'dir') return path.join(current, ...parts.slice(i));
      // EEXIST: something made it meanwhile; the next pass looks at what it is
      await mkdir(next).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'EEXIST') throw e; });
      continue;
    }
    if (st.isSymbolicLink()) {
      const real = await realpath(next).catch(() => null);
      if (real === null) throw new Error(`${field} ${JSON.stringify(p)} goes through a symlink that leads nowhere`);
      if (!inside(root, real)) throw new Error(`${field} ${JSON.stringify(p)} leaves the workspace through a symlink`);
      current = real;
    } else {
      current = next;
    }
    i++;
  }
  return current;
}
