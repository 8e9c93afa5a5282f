export {
  startTracing,
  isTracing,
  contextFrom,
  traceparentOf,
  withSpan,
  startSpan,
  recordSpan,
  SpanKind,
  SpanStatusCode,
  type Span,
  type SpanOptions,
  type Tracing,
  type TracingOptions,
} from './tracing';
export { FastCounter, FastHistogram, type CounterSeries, type HistogramSeries } from './metrics';
