import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';

/**
 * The layout rule, checked on the source: server → schema → providers → engine → store, with
 * shared leaves (model, errors, ids, config, net) below everything; no import cycles.
 */
const SRC = path.resolve('src');

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of every source file: all of them, or only those that remain at run time (`import type` is erased). */
function graph(runtimeOnly: boolean): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files(SRC)) {
    const text = fs.readFileSync(f, 'utf8');
    const deps = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b(\s+type\b)?[^'"]*?from\s+'(\.[^']+)'/g), ...text.matchAll(/import\(()'(\.[^']+)'\)/g)]
      .filter((m) => !(runtimeOnly && m[1]))
      .map((m) => path.resolve(path.dirname(f), m[2]!.replace(/\.js$/, '.ts')));
    g.set(f, deps);
  }
  return g;
}

const rel = (f: string) => path.relative(SRC, f);

describe('source layout', () => {
  it('has no import cycles at run time', () => {
    const g = graph(true);
    // Tarjan's strongly connected components: any with more than one file is a cycle.
    let index = 0;
    const idx = new Map<string, number>(); const low = new Map<string, number>(); const stack: string[] = []; const on = new Set<string>();
    const cycles: string[][] = [];
    const visit = (v: string) => {
      idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
      for (const w of g.get(v) ?? []) {
        if (!g.has(w)) continue;
        if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        const comp: string[] = [];
        let w: string;
        do { w = stack.pop()!; on.delete(w); comp.push(rel(w)); } while (w !== v);
        if (comp.length > 1) cycles.push(comp.sort());
      }
    };
    for (const v of g.keys()) if (!idx.has(v)) visit(v);
    expect(cycles).toEqual([]);
  });

  it('points one way: no layer imports one above it, not even for types', () => {
    const g = graph(false);
    const above: Record<string, string[]> = {
      'store/': ['engine/', 'providers/', 'schema/', 'server/', 'live/'],
      'engine/': ['providers/', 'schema/', 'server/'],
      'providers/': ['schema/', 'server/'],
      'schema/': ['server/'],
    };
    const wrong: string[] = [];
    for (const [f, deps] of g) {
      const from = rel(f);
      const banned = Object.entries(above).find(([layer]) => from.startsWith(layer))?.[1] ?? [];
      for (const d of deps) if (banned.some((b) => rel(d).startsWith(b))) wrong.push(`${from} → ${rel(d)}`);
    }
    expect(wrong).toEqual([]);
  });
});
