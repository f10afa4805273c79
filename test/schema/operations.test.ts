/**
 * schema/operations/ is what the playground offers as tabs (one per file, in file name order):
 * one operation per file, example variables that the schema accepts, and the README's first
 * session as the first tabs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildSchema, getVariableValues, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { packageRoot } from '../../src/server/package-root.js';

const root = packageRoot();
const dir = join(root, 'schema', 'operations');
const schema = buildSchema(readFileSync(join(root, 'schema', 'schema.graphql'), 'utf8'));
const files = readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort();

function operations(file: string): OperationDefinitionNode[] {
  return parse(readFileSync(join(dir, file), 'utf8')).definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
}

/** `02-run-build.graphql` → `RunBuild`. */
function operationNameOf(file: string): string {
  return file
    .replace(/^\d+-/, '')
    .replace(/\.graphql$/, '')
    .split('-')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

describe('schema/operations', () => {
  it('holds one named operation per file, named after the file (a tab runs without a chooser)', () => {
    expect(files.length).toBeGreaterThan(0);
    const found = files.map((f) => ({ file: f, names: operations(f).map((o) => o.name?.value) }));
    expect(found).toEqual(files.map((f) => ({ file: f, names: [operationNameOf(f)] })));
  });

  it('numbers files so that name order is tab order, without gaps or repeats', () => {
    expect(files.map((f) => Number(/^(\d+)-/.exec(f)?.[1]))).toEqual(files.map((_, i) => i + 1));
  });

  it('starts with the tabs of the README first session, in its order', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const session = /^A first session[^\n]*\n([\s\S]*?)\n\n/m.exec(readme)?.[1];
    expect(session).toBeDefined();
    const known = new Set(files.map(operationNameOf));
    const tabs = [...session!.matchAll(/`(\w+)`/g)].map((m) => m[1]!).filter((n) => known.has(n));
    expect(tabs).toEqual(['BuildsList', 'RunBuild', 'RunLog', 'RunPage']);
    expect(files.slice(0, tabs.length).map(operationNameOf)).toEqual(tabs);
  });

  it.each(files)('%s: example variables are given for every required variable and are valid', (file) => {
    const [op] = operations(file);
    const defs = op!.variableDefinitions ?? [];
    const varsFile = join(dir, file.replace(/\.graphql$/, '.variables.json'));
    if (!existsSync(varsFile)) {
      // Only an operation without variables may go without an example.
      expect(defs.map((d) => d.variable.name.value)).toEqual([]);
      return;
    }
    const vars = JSON.parse(readFileSync(varsFile, 'utf8')) as Record<string, unknown>;
    const declared = defs.map((d) => d.variable.name.value);
    expect(Object.keys(vars).filter((k) => !declared.includes(k))).toEqual([]);
    const coerced = getVariableValues(schema, defs, vars);
    expect(coerced.errors?.map((e) => e.message) ?? []).toEqual([]);
  });
});
