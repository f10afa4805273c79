import { describe, expect, it } from '@jest/globals';
import {
  getNamedType, getNullableType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType,
  type GraphQLField, type GraphQLInputField, type GraphQLSchema,
} from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { LiveHub } from '../../src/live/hub.js';
import { createSchema } from '../../src/schema/index.js';

/**
 * The conventions of docs/schema-conventions.md that a program can check, on the schema the
 * code builds (the same one schema/schema.graphql is emitted from).
 */
let schema: GraphQLSchema;
const schemaReady = createSchema(new LiveHub().pubSub).then((s) => { schema = s; });

type AnyField = GraphQLField<unknown, unknown> | GraphQLInputField;
/** Every field, argument and input field with a path naming it. */
function everyTyped(s: GraphQLSchema): Array<{ path: string; name: string; f: AnyField | { type: AnyField['type'] } }> {
  const out: Array<{ path: string; name: string; f: AnyField | { type: AnyField['type'] } }> = [];
  for (const t of Object.values(s.getTypeMap())) {
    if (t.name.startsWith('__') || !('getFields' in t)) continue;
    for (const f of Object.values(t.getFields()) as AnyField[]) {
      out.push({ path: `${t.name}.${f.name}`, name: f.name, f });
      for (const a of ('args' in f ? f.args : [])) out.push({ path: `${t.name}.${f.name}(${a.name})`, name: a.name, f: a });
    }
  }
  return out;
}

describe('schema conventions (docs/schema-conventions.md)', () => {
  it('uses no Float: sequence numbers, sizes, counts and durations are SafeInt', async () => {
    await schemaReady;
    const all = everyTyped(schema);
    expect(all.filter((x) => getNamedType(x.f.type).name === 'Float').map((x) => x.path)).toEqual([]);
    const numeric = /^(seq|lastSeq|afterSeq)$|[sS]ize$|Count$|^duration|Duration/;
    const wrong = all.filter((x) => numeric.test(x.name) && getNamedType(x.f.type).name !== 'SafeInt');
    expect(wrong.map((x) => `${x.path}: ${getNamedType(x.f.type).name}`)).toEqual([]);
  });

  it('every mutation takes one `input: <Name>Input!` and returns `<Name>Payload!` with errors: [UserError!]!', async () => {
    await schemaReady;
    const bad: string[] = [];
    for (const m of Object.values(schema.getMutationType()!.getFields())) {
      const Name = m.name[0]!.toUpperCase() + m.name.slice(1);
      if (m.args.length !== 1 || m.args[0]!.name !== 'input' || String(m.args[0]!.type) !== `${Name}Input!` || !isInputObjectType(getNullableType(m.args[0]!.type))) bad.push(`${m.name} arguments: ${m.args.map((a) => `${a.name}: ${a.type}`).join(', ')}`);
      if (String(m.type) !== `${Name}Payload!`) bad.push(`${m.name} returns ${m.type}`);
      const payload = getNullableType(m.type);
      if (!isObjectType(payload)) continue;
      const errors = payload.getFields().errors;
      if (!errors || String(errors.type) !== '[UserError!]!') bad.push(`${payload.name}.errors: ${errors?.type}`);
      if (!payload.getFields().clientMutationId) bad.push(`${payload.name} has no clientMutationId`);
      for (const [k, f] of Object.entries(payload.getFields())) {
        if (k !== 'errors' && k !== 'clientMutationId' && isNonNullType(f.type) && !isListType(getNullableType(f.type))) bad.push(`${payload.name}.${k} is non-null: a payload with errors has no object`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('enum values are UPPER_CASE', async () => {
    await schemaReady;
    const lower = Object.values(schema.getTypeMap()).filter((t) => isEnumType(t) && !t.name.startsWith('__'))
      .flatMap((t) => (isEnumType(t) ? t.getValues() : []).filter((v) => !/^[A-Z][A-Z0-9_]*$/.test(v.name)).map((v) => `${t.name}.${v.name}`));
    expect(lower).toEqual([]);
  });

  it('lists the arguments of every field in the order the resolver declares them', async () => {
    await schemaReady;
    const storage = getMetadataStorage();
    const handlers = [...storage.queries, ...storage.mutations, ...storage.subscriptions, ...storage.fieldResolvers];
    const bad: string[] = [];
    let checked = 0;
    for (const h of handlers) {
      const declared = storage.params.filter((p) => p.target === h.target && p.methodName === h.methodName && p.kind === 'arg')
        .sort((a, b) => a.index - b.index).map((p) => (p as { name: string }).name);
      if (declared.length < 2) continue;
      const type = storage.queries.includes(h as never) ? schema.getQueryType() : storage.mutations.includes(h as never) ? schema.getMutationType()
        : storage.subscriptions.includes(h as never) ? schema.getSubscriptionType() : null;
      const fields = type ? [type.getFields()[h.schemaName]] : Object.values(schema.getTypeMap()).filter(isObjectType).map((t) => t.getFields()[h.schemaName]);
      for (const f of fields) {
        if (!f) continue;
        const emitted = f.args.map((a) => a.name).filter((n) => declared.includes(n));
        if (emitted.length !== declared.length) continue;
        checked++;
        if (emitted.join() !== declared.join()) bad.push(`${h.schemaName}(${emitted.join(', ')}) declared (${declared.join(', ')})`);
      }
    }
    expect(checked).toBeGreaterThan(2);
    expect(bad).toEqual([]);
  });

  it('root lookups by id are nullable (a missing item is null, its siblings keep their data)', async () => {
    await schemaReady;
    const lookups = Object.values(schema.getQueryType()!.getFields()).filter((f) => f.args.some((a) => /^(id|providerId)$/.test(a.name) && isNonNullType(a.type)));
    expect(lookups.map((f) => f.name).sort()).toEqual(['build', 'node', 'provider', 'run']);
    expect(lookups.filter((f) => isNonNullType(f.type)).map((f) => f.name)).toEqual([]);
  });

  it('one name for a provider instance argument (providerId / providerIds) and *At for every time', async () => {
    await schemaReady;
    const all = everyTyped(schema);
    expect(all.filter((x) => x.path.includes('(') || isInputObjectType(schema.getType(x.path.split('.')[0]!)))
      .filter((x) => /^providers?$/.test(x.name)).map((x) => x.path)).toEqual([]);
    expect(all.filter((x) => getNamedType(x.f.type).name === 'DateTime' && !/At$/.test(x.name)).map((x) => x.path)).toEqual([]);
  });
});
