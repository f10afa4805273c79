import { ApolloArmor } from '@escape.tech/graphql-armor';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema, type ValidationContext, type ValidationRule } from 'graphql';
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
const SUGGESTION = /\s*Did you mean .+\?/g;

/**
 * Static limits on operations, the same over HTTP (Apollo) and graphql-ws: depth, cost,
 * aliases and directives as validation rules (graphql-armor), tokens in the parser
 * (graphql-js `maxTokens`, so an oversized document is not even fully parsed), and field
 * suggestions masked when switched off.
 */
export class OperationLimits {
  readonly rules: ValidationRule[];
  private readonly maxTokens: number;
  private readonly suggestions: boolean;
  /**
   * Valid documents by query text. Validation depends only on the text, the schema and these
   * rules, so a subscription that a thousand clients open is parsed and validated once (the
   * same document object also lets live/shared-execution print it once).
   */
  private readonly valid = new LRUCache<string, { schema: GraphQLSchema; document: DocumentNode }>({ max: 1000 });

  constructor(config: Config) {
    const l = config.limits;
    this.maxTokens = l.maxTokens;
    this.suggestions = config.server.fieldSuggestions;
    // Introspection is governed by server.introspection, so GraphiQL's deep introspection query is not a "deep query".
    this.rules = [
      maxDepthRule({ n: l.maxDepth, ignoreIntrospection: true, ...report }),
      costLimitRule({ maxCost: l.maxCost, ignoreIntrospection: true, ...report }),
      maxAliasesRule({ n: l.maxAliases, ...report }),
      maxDirectivesRule({ n: l.maxDirectives, ...report }),
    ] as ValidationRule[];
  }

  /** Options for the ApolloServer constructor. */
  apolloOptions(batched: boolean): { validationRules: ValidationRule[]; parseOptions: { maxTokens: number }; allowBatchedHttpRequests: boolean; plugins: ApolloServerPlugin<any>[] } {
    const plugins = this.suggestions ? [] : new ApolloArmor({
      blockFieldSuggestion: { enabled: true, mask: '' }, costLimit: { enabled: false }, maxAliases: { enabled: false },
      maxDepth: { enabled: false }, maxDirectives: { enabled: false }, maxTokens: { enabled: false },
    }).protect().plugins as ApolloServerPlugin<any>[];
    return { validationRules: this.rules, parseOptions: { maxTokens: this.maxTokens }, allowBatchedHttpRequests: batched, plugins };
  }

  /** Parses and validates a graphql-ws operation; errors come back as a list to send, not thrown. */
  check(schema: GraphQLSchema, query: unknown): { document: DocumentNode } | { errors: GraphQLError[] } {
    if (typeof query !== 'string') return { errors: [new GraphQLError('query must be a string', { extensions: { code: 'BAD_REQUEST' } })] };
    const known = this.valid.get(query);
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
      this.valid.set(query, { schema, document });
      return { document };
    }
    return {
      errors: errors.map((e) => new GraphQLError(this.suggestions ? e.message : e.message.replace(SUGGESTION, ''), {
        extensions: { ...e.extensions, code: 'GRAPHQL_VALIDATION_FAILED' },
      })),
    };
  }
}
