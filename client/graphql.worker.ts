/**
 * monaco-graphql's GraphQL worker, with one correction to the JSON schema it derives from the
 * operation for the variables editor: a non-null input field or variable that has a default
 * value may be left out (GraphQL spec, "Input Coercion"), yet graphql-language-service lists
 * it as required, so the editor marks valid variables with `Missing property "useFlag"`
 * (BuildStepInput.useFlag: Boolean! = true). Upstream: graphql/graphiql#3571 (open).
 * Built as dist/graphiql/graphql.worker.js by scripts/build-client.mjs, in place of
 * monaco-graphql/esm/graphql.worker.js, which this file otherwise repeats.
 */
import { initialize } from 'monaco-editor/esm/vs/editor/editor.worker.js';
import { GraphQLWorker } from 'monaco-graphql/esm/GraphQLWorker.js';
import { Kind, parse } from 'graphql';

type WorkerContext = ConstructorParameters<typeof GraphQLWorker>[0];
type CreateData = ConstructorParameters<typeof GraphQLWorker>[1];

/** The parts of a draft-04 object schema this correction reads and changes. */
interface ObjectSchema {
  properties?: Record<string, { default?: unknown }>;
  required?: string[];
  definitions?: Record<string, ObjectSchema>;
}

/** Drops from `required` every property that has a default. */
function withoutDefaulted(schema: ObjectSchema, alsoOptional: ReadonlySet<string> = new Set()): void {
  if (!schema.required) return;
  schema.required = schema.required.filter(
    (name) => schema.properties?.[name]?.default === undefined && !alsoOptional.has(name),
  );
}

/** Variables declared with a default (`$x: T! = v`): the JSON schema of the root carries no default for them. */
function variablesWithDefaults(document: string): Set<string> {
  const names = new Set<string>();
  try {
    for (const def of parse(document).definitions) {
      if (def.kind !== Kind.OPERATION_DEFINITION) continue;
      for (const v of def.variableDefinitions ?? []) if (v.defaultValue) names.add(v.variable.name.value);
    }
  } catch {
    // Unparsable operation: the language service returned no schema for it either.
  }
  return names;
}

class BuildgateGraphQLWorker extends GraphQLWorker {
  readonly #ctx: WorkerContext;

  constructor(ctx: WorkerContext, createData: CreateData) {
    super(ctx, createData);
    this.#ctx = ctx;
  }

  override async doGetVariablesJSONSchema(uri: string): Promise<unknown> {
    const schema = (await super.doGetVariablesJSONSchema(uri)) as ObjectSchema | null;
    if (!schema) return schema;
    const text = this.#ctx.getMirrorModels().find((m) => m.uri.toString() === uri)?.getValue() ?? '';
    withoutDefaulted(schema, variablesWithDefaults(text));
    for (const definition of Object.values(schema.definitions ?? {})) withoutDefaulted(definition);
    return schema;
  }
}

globalThis.onmessage = () => {
  initialize((ctx: WorkerContext, createData: CreateData) => new BuildgateGraphQLWorker(ctx, createData));
};
