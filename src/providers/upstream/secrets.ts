/**
 * Secret scrubbing for everything an upstream call can leak into an error or a log line:
 * header values (tokens), configured secrets, and the token part of "Bearer xyz" /
 * "Basic xyz" values. Scrubbing works on values, not on field names, so a token echoed
 * back inside an upstream error body is caught too.
 */
export const MASK = '***';

/** Every value worth hiding, longest first so a token inside a longer value is fully masked. */
export function secretValues(headers: Record<string, string> = {}, extra: string[] = []): string[] {
  const out = new Set<string>();
  for (const v of [...Object.values(headers), ...extra]) {
    if (typeof v !== 'string' || v.length < 4) continue;
    out.add(v);
    // "Bearer <token>": the token alone may show up elsewhere (e.g. echoed in a body).
    for (const part of v.split(/\s+/)) if (part.length >= 8) out.add(part);
  }
  return [...out].sort((a, b) => b.length - a.length);
}

export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

/** Deep copy of `value` with every secret substring replaced by "***". */
export function scrub(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (secrets.length === 0) return value;
  if (typeof value === 'string') return scrubText(value, secrets);
  if (depth > 20 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[scrubText(k, secrets)] = scrub(v, secrets, depth + 1);
  return out;
}
