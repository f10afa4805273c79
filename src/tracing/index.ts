import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

/**
 * Spans of buildgate (OpenTelemetry API only; the SDK is started by tracing/sdk.ts when
 * configured). Off, every helper is one boolean test and calls straight through: no span,
 * no context switch, nothing allocated on the request path.
 */
let on = false;

/** True while an SDK started by startTracing records spans. */
export function tracingOn(): boolean {
  return on;
}

/** For tracing/sdk.ts only. */
export function setTracingOn(value: boolean): void {
  on = value;
}

const tracer = () => trace.getTracer('buildgate');

export { SpanKind, type Span };

/**
 * Runs `fn` inside a new active span (a child of the current one) that ends when `fn` settles;
 * a throw marks it ERROR. `fn` gets null when tracing is off.
 */
export function traced<T>(name: string, attributes: Attributes | (() => Attributes), fn: (span: Span | null) => Promise<T>, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  if (!on) return fn(null);
  const attrs = typeof attributes === 'function' ? attributes() : attributes;
  return tracer().startActiveSpan(name, { kind, attributes: attrs }, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      failed(span, e);
      throw e;
    } finally {
      span.end();
    }
  });
}

/**
 * Starts a span without making it current (its end is the caller's), or null when off.
 * `root`: a trace of its own, linked to the current span (work that outlives the request that started it).
 */
export function startSpan(name: string, attributes: Attributes, opts: { kind?: SpanKind; root?: boolean } = {}): Span | null {
  if (!on) return null;
  const current = opts.root ? trace.getActiveSpan()?.spanContext() : undefined;
  return tracer().startSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes, root: opts.root, links: current ? [{ context: current }] : [] });
}

/** Runs `fn` with `span` as the current span (so spans and log lines inside it are its children). */
export function withSpan<T>(span: Span | null, fn: () => T): T {
  if (!span) return fn();
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Marks a span failed with the error's message (never its stack: messages are already scrubbed of secrets). */
export function failed(span: Span | null, e: unknown): void {
  if (!span) return;
  const message = e instanceof Error ? e.message : String(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  const code = (e as { extensions?: { code?: unknown } } | null)?.extensions?.code;
  if (typeof code === 'string') span.setAttribute('buildgate.error.code', code);
}

/** Adds the W3C `traceparent` (and `tracestate`) of the current span to outgoing headers. */
export function injectTraceContext(headers: Record<string, string>): void {
  if (on) propagation.inject(context.active(), headers);
}

/** `{ traceId, spanId }` of the current span for log lines, or nothing. */
export function traceFields(): { traceId?: string; spanId?: string } {
  if (!on) return {};
  const span = trace.getActiveSpan();
  if (!span) return {};
  const c = span.spanContext();
  return { traceId: c.traceId, spanId: c.spanId };
}
