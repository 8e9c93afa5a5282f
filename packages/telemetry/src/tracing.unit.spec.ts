import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { SpanKind, startTracing, traceparentOf, withSpan, type Tracing } from './index';

const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('tracing', () => {
  it('is off by default and still carries the caller trace context through', async () => {
    const tracing = startTracing('test', {});
    expect(tracing.enabled).toBe(false);
    const child = await withSpan(
      'test',
      'work',
      { parent: { traceparent: incoming } },
      async (span) => traceparentOf(span),
    );
    expect(child).toBe(incoming);
  });

  describe('when an exporter is configured', () => {
    const exporter = new InMemorySpanExporter();
    let tracing: Tracing;
    beforeAll(() => {
      tracing = startTracing('test-service', {}, { exporter });
    });
    afterAll(async () => {
      await tracing.shutdown();
      trace.disable();
    });

    it('records spans as children of the given traceparent, and nested spans under them', async () => {
      await withSpan(
        'test',
        'consume',
        { kind: SpanKind.CONSUMER, parent: { traceparent: incoming } },
        async () => withSpan('test', 'index', {}, async () => undefined),
      );
      const spans = exporter.getFinishedSpans();
      const consume = spans.find((s) => s.name === 'consume')!;
      const index = spans.find((s) => s.name === 'index')!;
      expect(consume.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(consume.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
      expect(index.parentSpanContext?.spanId).toBe(consume.spanContext().spanId);
      expect(consume.resource.attributes['service.name']).toBe('test-service');
    });

    it('marks a failing span as an error and rethrows', async () => {
      await expect(
        withSpan('test', 'boom', {}, async () => Promise.reject(new Error('nope'))),
      ).rejects.toThrow('nope');
      const boom = exporter.getFinishedSpans().find((s) => s.name === 'boom')!;
      expect(boom.status.code).toBe(2);
      expect(boom.events[0]?.name).toBe('exception');
    });
  });
});
