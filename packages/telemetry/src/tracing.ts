import {
  context,
  propagation,
  trace,
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Attributes,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

// Our own propagator instance (not the global one) so that trace context passes through even
// when tracing was never started in this process.
const w3c = new W3CTraceContextPropagator();

/** Whether startTracing registered a provider, i.e. whether a span can record anything. */
let recording = false;

/**
 * True while tracing started by `startTracing` is on. With it off, a span without a parent
 * records nothing and carries no valid context: a hot path may skip making one.
 */
export function isTracing(): boolean {
  return recording;
}

export interface Tracing {
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Overrides the exporter chosen by OTEL_TRACES_EXPORTER (tests use an in-memory one). */
  readonly exporter?: SpanExporter;
}

/**
 * Starts OpenTelemetry tracing for one process, configured by the standard variables:
 * `OTEL_TRACES_EXPORTER` (`otlp` | `console`; unset or `none` = off, the default),
 * `OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
 * `OTEL_SDK_DISABLED`. When off, trace context is still propagated (W3C `traceparent`), so a
 * caller's trace id survives through our events even if we record nothing.
 */
export function startTracing(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
  opts: TracingOptions = {},
): Tracing {
  propagation.setGlobalPropagator(w3c);
  const choice = (env.OTEL_TRACES_EXPORTER ?? 'none').split(',')[0]!.trim();
  const disabled =
    env.OTEL_SDK_DISABLED === 'true' || (!opts.exporter && (choice === 'none' || choice === ''));
  if (disabled) return { enabled: false, shutdown: async () => undefined };

  let processor: SpanProcessor;
  if (opts.exporter) processor = new SimpleSpanProcessor(opts.exporter);
  else if (choice === 'console') processor = new SimpleSpanProcessor(new ConsoleSpanExporter());
  else if (choice === 'otlp') processor = new BatchSpanProcessor(new OTLPTraceExporter());
  else
    throw new Error(`OTEL_TRACES_EXPORTER=${choice} is not supported (use otlp, console or none)`);

  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors: [processor],
  });
  provider.register({ propagator: w3c });
  recording = true;
  return {
    enabled: true,
    shutdown: () => {
      recording = false;
      return provider.shutdown();
    },
  };
}

const getter = {
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string) => {
    const v = carrier[key];
    return typeof v === 'string'
      ? v
      : Array.isArray(v) && typeof v[0] === 'string'
        ? v[0]
        : undefined;
  },
};

/** The context a `traceparent` (and optional `tracestate`) names; the active one when absent. */
export function contextFrom(
  carrier: { traceparent?: unknown; tracestate?: unknown } | undefined,
): Context {
  if (!carrier || typeof carrier.traceparent !== 'string') return context.active();
  return w3c.extract(context.active(), carrier as Record<string, unknown>, getter);
}

/** The W3C `traceparent` of a span (undefined when it carries no valid trace). */
export function traceparentOf(span: Span | undefined): string | undefined {
  if (!span) return undefined;
  const carrier: Record<string, string> = {};
  w3c.inject(trace.setSpan(context.active(), span), carrier, {
    set: (c: Record<string, string>, k: string, v: string) => (c[k] = v),
  });
  return carrier.traceparent;
}

export interface SpanOptions {
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  /** Parent trace context, e.g. from an event's metadata or a message's headers. */
  readonly parent?: { traceparent?: unknown; tracestate?: unknown };
  /** When the work began (default: now), for spans recorded after the fact. */
  readonly startTime?: Date;
}

/** Runs `fn` inside a span (active for its duration); records an exception and error status on throw. */
export async function withSpan<T>(
  tracerName: string,
  name: string,
  opts: SpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = contextFrom(opts.parent);
  const span = trace
    .getTracer(tracerName)
    .startSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}

/** Starts a span the caller ends (for lifecycles that do not fit a callback, like an HTTP request). */
export function startSpan(tracerName: string, name: string, opts: SpanOptions = {}): Span {
  return trace.getTracer(tracerName).startSpan(
    name,
    {
      kind: opts.kind ?? SpanKind.INTERNAL,
      attributes: opts.attributes,
      ...(opts.startTime ? { startTime: opts.startTime } : {}),
    },
    contextFrom(opts.parent),
  );
}

/**
 * Records a finished span after the fact - e.g. one per event of a projector batch, each a
 * child of its own event's trace, spanning the batch's write (batches mix many traces).
 */
export function recordSpan(
  tracerName: string,
  name: string,
  opts: SpanOptions & { readonly error?: string },
): void {
  const span = startSpan(tracerName, name, opts);
  if (opts.error) span.setStatus({ code: SpanStatusCode.ERROR, message: opts.error });
  span.end();
}

export { SpanKind, SpanStatusCode, type Span };
