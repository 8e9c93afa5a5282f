export {
  startTracing,
  contextFrom,
  traceparentOf,
  withSpan,
  startSpan,
  SpanKind,
  SpanStatusCode,
  type Span,
  type SpanOptions,
  type Tracing,
  type TracingOptions,
} from './tracing';
