import type { AutotagData } from '../model.js';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * The image tag of a run, as Cocktail chooses it: the tag given to runBuild, else an
 * automatic one (prefix + `yyyyMMdd-HHmmss` for DATETIME, prefix + five-digit build number
 * for SEQUENCE), else the build's default tag.
 */
export function chooseTag(given: string | null | undefined, autotag: AutotagData | null | undefined, buildTag: string | null | undefined, buildNo: number, at: Date): string | null {
  if (given) return given;
  if (autotag?.enabled) {
    const prefix = autotag.prefix ?? '';
    if (autotag.seqType === 'SEQUENCE') return `${prefix}${pad(buildNo, 5)}`;
    const d = at;
    return `${prefix}${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  }
  return buildTag ?? null;
}
