import type { ApolloServerPlugin } from '@apollo/server';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { getOperationAST, Kind, type DocumentNode, type ExecutionArgs } from 'graphql';

/*
 * Spans of GraphQL operations, on both transports. Installed only when tracing is on at start
 * (server/index.ts), so a gateway without tracing has none of this on its request path.
 */

const tracer = () => trace.getTracer('buildgate');

/**
 * Opens the operation's SERVER span (continuing the caller's W3C traceparent, if any) and runs
 * the rest of the request inside it, so provider and upstream spans become its children. Sits
 * after the body parser: a parser's stream callbacks would run outside the span's context.
 */
export const httpOperationSpan: RequestHandler = (req, res, next) => {
  const parent = propagation.extract(context.active(), req.headers);
  const span = tracer().startSpan('graphql', { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': '/graphql' } }, parent);
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    span.end();
  });
  context.with(trace.setSpan(parent, span), next);
};

/** Names the operation span `<type> <name>` once the operation is known, and marks it failed when the answer has errors and no data. */
export const operationSpanPlugin: ApolloServerPlugin = {
  async requestDidStart() {
    const span = trace.getActiveSpan();
    if (!span) return {};
    return {
      async didResolveOperation({ operation, operationName }) {
        if (operation) nameSpan(span, operation.operation, operationName ?? operation.name?.value);
      },
      async willSendResponse({ response }) {
        const body = response.body.kind === 'single' ? response.body.singleResult : null;
        const errors = body?.errors ?? [];
        if (errors.length === 0) return;
        const code = errors[0]?.extensions?.code;
        if (typeof code === 'string') span.setAttribute('buildgate.error.code', code);
        if (body?.data === undefined || body.data === null) span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]!.message });
      },
    };
  },
};

function nameSpan(span: import('@opentelemetry/api').Span, type: string, name: string | undefined): void {
  span.updateName(name ? `${type} ${name}` : type);
  span.setAttributes({ 'graphql.operation.type': type, ...(name ? { 'graphql.operation.name': name } : {}) });
}

/**
 * Wraps graphql-ws's execute or subscribe in a SERVER span per operation (a subscription's span
 * covers setting it up: the events that follow belong to whatever published them).
 */
export function wsOperationSpan<F extends (args: ExecutionArgs) => unknown>(run: F): F {
  return ((args: ExecutionArgs) => {
    const op = getOperationAST(args.document as DocumentNode, args.operationName);
    const type = op?.operation ?? 'unknown';
    const name = args.operationName ?? (op?.kind === Kind.OPERATION_DEFINITION ? op.name?.value : undefined);
    return tracer().startActiveSpan(type, { kind: SpanKind.SERVER, attributes: { 'network.protocol.name': 'websocket' } }, async (span) => {
      nameSpan(span, type, name ?? undefined);
      try {
        const result = await run(args);
        const errors = (result as { errors?: readonly { message: string }[] } | null)?.errors;
        if (errors?.length) span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]!.message });
        return result;
      } catch (e) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
        throw e;
      } finally {
        span.end();
      }
    });
  }) as F;
}
