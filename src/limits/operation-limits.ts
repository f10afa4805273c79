import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  BREAK, GraphQLError, Kind, parse, specifiedRules, validate, visit,
  type ArgumentNode, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type ValidationContext, type ValidationRule,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config/index.js';

/**
 * Rejections become validation errors of the request (HTTP 400), never exceptions. The cost
 * rule words its rejection as a "Syntax Error:" although the query parsed fine: that prefix
 * of the library's wording is dropped, so the message says what was refused.
 */
const LIBRARY_PREFIX = 'Syntax Error: ';
const report = {
  propagateOnRejection: false,
  onReject: [(ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(err.message.startsWith(LIBRARY_PREFIX)
    ? new GraphQLError(err.message.slice(LIBRARY_PREFIX.length), { nodes: err.nodes, extensions: err.extensions })
    : err)],
};
/** graphql-js appends hints as ` Did you mean "a", "b" or "c"?` (fields, arguments, types, enum values, input fields). */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;
/** Deepest nesting of variable values: far beyond any input type of the schema, far below a stack overflow. */
export const MAX_VARIABLE_DEPTH = 64;
/** Parsed documents hold about this many bytes per character of query text (AST nodes, locations, the text itself). */
const DOCUMENT_BYTES_PER_CHAR = 12;
/** Distinct page-size combinations remembered per document (a client paging with varying sizes starts over past it). */
const COSTS_PER_DOCUMENT = 32;

interface PageVariables { names: string[]; costs: Map<string, readonly GraphQLError[]> }

/**
 * Limits on operations, the same over HTTP (Apollo) and graphql-ws: depth, cost, aliases and
 * directives as validation rules (graphql-armor), introspection refused by a validation rule
 * when switched off, tokens in the parser (graphql-js `maxTokens`, so an oversized document
 * is not even fully parsed), the cost counted again once variables are known, and
 * suggestions masked when switched off.
 */
export class OperationLimits {
  readonly rules: ValidationRule[];
  readonly maxTokens: number;
  private readonly maxPageSize: number;
  private readonly suggestions: boolean;
  private readonly costRule: ValidationRule;
  /**
   * Valid documents by query text, for graphql-ws (Apollo keeps its own, bounded the same
   * way). Validation depends only on the text, the schema and these rules, so a subscription
   * that a thousand clients open is parsed and validated once (the same document object also
   * lets live/shared-execution print it once). Bounded in bytes, not in entries: a thousand
   * distinct megabyte documents must not be kept.
   */
  private readonly valid: LRUCache<string, { schema: GraphQLSchema; document: DocumentNode }> | null;
  /** Per document (gone with it): page variables and cost answers of each operation. */
  private readonly pageVariablesOf = new WeakMap<DocumentNode, Map<OperationDefinitionNode, PageVariables>>();

  constructor(config: Config) {
    const l = config.limits;
    this.maxTokens = l.maxTokens;
    this.maxPageSize = l.maxPageSize;
    this.suggestions = config.server.fieldSuggestions;
    this.costRule = costLimitRule({ maxCost: l.maxCost, ignoreIntrospection: true, ...report }) as ValidationRule;
    // Introspection is governed by server.introspection, so GraphiQL's deep introspection query is not a "deep query".
    this.rules = [
      ...(config.server.introspection ? [] : [noIntrospection]),
      maxDepthRule({ n: l.maxDepth, ignoreIntrospection: true, ...report }) as ValidationRule,
      this.costRule,
      maxAliasesRule({ n: l.maxAliases, ...report }) as ValidationRule,
      maxDirectivesRule({ n: l.maxDirectives, ...report }) as ValidationRule,
    ];
    const bytes = config.server.ws.documentCacheBytes;
    this.valid = bytes > 0 ? new LRUCache({
      maxSize: bytes,
      sizeCalculation: (_v, query) => Math.max(1, query.length * DOCUMENT_BYTES_PER_CHAR),
      // One document may take at most 1/16 of the cache; larger ones are validated every time.
      maxEntrySize: Math.max(1, Math.floor(bytes / 16)),
    }) : null;
  }

  /** Bytes the document cache holds now (estimated as the cache counts them). */
  get cachedDocumentBytes(): number { return this.valid?.calculatedSize ?? 0; }

  /** Parses and validates a graphql-ws operation; errors come back as a list to send, not thrown. */
  check(schema: GraphQLSchema, query: unknown): { document: DocumentNode } | { errors: GraphQLError[] } {
    if (typeof query !== 'string') return { errors: [new GraphQLError('query must be a string', { extensions: { code: 'BAD_REQUEST' } })] };
    const known = this.valid?.get(query);
    if (known?.schema === schema) return { document: known.document };
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: this.maxTokens });
    } catch (e) {
      const err = e instanceof GraphQLError ? e : new GraphQLError('Syntax Error');
      return { errors: [new GraphQLError(err.message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] };
    }
    const errors = validate(schema, document, [...specifiedRules, ...this.rules]);
    if (errors.length === 0) {
      this.valid?.set(query, { schema, document });
      return { document };
    }
    return { errors: errors.map((e) => new GraphQLError(e.message, { extensions: { ...e.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } })) };
  }

  /**
   * The cost rule again, with every `first: $n` / `last: $n` of the operation (and its
   * fragments) replaced by the coerced value of `$n` (at most maxPageSize, the largest page
   * that can run): the count a literal would get. The
   * static rule counted variables as 1 (graphql-armor does not know them).
   * The answer depends only on the document and those values: an operation without page
   * variables is not visited again, and the answer for each set of values is kept with the
   * document (both transports reuse one document object per query text).
   */
  checkCostWithVariables(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): readonly GraphQLError[] {
    const known = this.pageVariables(document, operation);
    if (known.names.length === 0) return [];
    const maxPage = this.maxPageSize;
    const values = new Map<string, number>();
    for (const name of known.names) {
      const v = variables[name];
      // Past maxPageSize the resolver refuses the page (BAD_USER_INPUT): count what could run.
      if (typeof v === 'number' && Number.isInteger(v)) values.set(name, Math.min(v, maxPage));
    }
    if (values.size === 0) return [];
    const key = known.names.map((n) => values.get(n) ?? '').join(',');
    const cached = known.costs.get(key);
    if (cached) return cached;
    const selected: DocumentNode = { ...document, definitions: document.definitions.filter((d) => d === operation || d.kind === Kind.FRAGMENT_DEFINITION) };
    const withValues = visit(selected, {
      Argument(node) {
        if ((node.name.value !== 'first' && node.name.value !== 'last') || node.value.kind !== Kind.VARIABLE) return undefined;
        const v = values.get(node.value.name.value);
        return v === undefined ? undefined : { ...node, value: { kind: Kind.INT, value: String(v) } };
      },
    });
    const errors = validate(schema, withValues, [this.costRule]).map((e) => new GraphQLError(e.message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
    if (known.costs.size >= COSTS_PER_DOCUMENT) known.costs.clear();
    known.costs.set(key, errors);
    return errors;
  }

  /** The variables an operation (with its fragments) passes to `first` / `last`, found once per document. */
  private pageVariables(document: DocumentNode, operation: OperationDefinitionNode): PageVariables {
    let perOperation = this.pageVariablesOf.get(document);
    if (!perOperation) this.pageVariablesOf.set(document, perOperation = new Map());
    let known = perOperation.get(operation);
    if (known) return known;
    const names = new Set<string>();
    if (operation.variableDefinitions?.length) {
      const collect = { Argument(node: ArgumentNode) {
        if ((node.name.value === 'first' || node.name.value === 'last') && node.value.kind === Kind.VARIABLE) names.add(node.value.name.value);
      } };
      for (const d of document.definitions) if (d === operation || d.kind === Kind.FRAGMENT_DEFINITION) visit(d, collect);
    }
    perOperation.set(operation, known = { names: [...names], costs: new Map() });
    return known;
  }

  /** A client-facing message without "Did you mean …?" hints when suggestions are off. */
  maskSuggestions(message: string): string {
    return this.suggestions ? message : message.replace(SUGGESTION, '');
  }
}

/** server.introspection false: one error for the first `__schema` / `__type` of an operation (`__typename` stays). */
const noIntrospection: ValidationRule = (ctx) => ({
  Field(node) {
    if (node.name.value !== '__schema' && node.name.value !== '__type') return undefined;
    ctx.reportError(new GraphQLError(`Introspection is disabled on this server, but the operation asks for ${node.name.value}`, { nodes: node }));
    return BREAK;
  },
});

/** True when `value` nests objects/arrays deeper than `limit` (iterative: the value may be deeper than the stack). */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
