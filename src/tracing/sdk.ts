import { context, propagation, trace } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { setTracingOn, tracingOn } from './index.js';

export interface TracingOptions {
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. */
  otlpEndpoint?: string;
  /** Headers sent to the collector (an API key): secret, never logged. */
  headers?: Record<string, string>;
  serviceName: string;
  /** Share of new traces recorded (a parent's decision is followed). */
  sampleRatio: number;
  /** Where spans go instead of OTLP (tests: an in-memory exporter); each span exported as it ends. */
  exporter?: SpanExporter;
}

export interface Tracing {
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Exports what is buffered and turns tracing off again. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node tracer for this process: W3C trace context, AsyncLocalStorage
 * context, spans batched to the OTLP/HTTP endpoint. Tracing is process-wide (the API's global
 * tracer): one call per process; the SDK is loaded only here, so a gateway without tracing
 * never loads it.
 */
export async function startTracing(opts: TracingOptions): Promise<Tracing> {
  if (tracingOn()) throw new Error('tracing is already started in this process');
  const [{ NodeTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'), import('@opentelemetry/resources'),
  ]);
  let processor;
  if (opts.exporter) {
    processor = new SimpleSpanProcessor(opts.exporter);
  } else {
    if (!opts.otlpEndpoint) throw new Error('tracing needs an OTLP endpoint or an exporter');
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.otlpEndpoint, headers: opts.headers }));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(opts.sampleRatio) }),
    spanProcessors: [processor],
  });
  provider.register(); // global tracer provider, AsyncLocalStorage context manager, W3C propagator
  setTracingOn(true);
  return {
    flush: () => provider.forceFlush(),
    async shutdown() {
      setTracingOn(false);
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
