import {
  DependencyUnavailableError,
  ValidationError,
  type EventDelivery,
  type EventEnvelope,
  type EventSubscription,
  type StreamVersion,
} from '@cqrs/core';
import { isTracing, recordSpan, SpanKind } from '@cqrs/telemetry';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProjectionEngine, ProjectionTarget } from './engine';
import { sleep } from './engine';

export interface ProjectorOptions {
  /**
   * Where the events come from: partitions of the event stream, each applied by one projector
   * instance at a time, in order (RabbitMQ: `@cqrs/amqp`'s AmqpEventSubscription;
   * docs/scaling.md).
   */
  readonly subscription: EventSubscription;
  readonly logger: Logger;
  readonly engine: ProjectionEngine;
  /** The read models and where the live projector writes them (their aliases). */
  readonly targets: readonly ProjectionTarget[];
  /**
   * Unsettled deliveries in flight per partition (default 2 x maxBatch): while one batch is
   * written the next fills from the rest, so a prefetch of twice the batch lets both be full,
   * also for an instance that holds a single partition.
   */
  readonly prefetch?: number;
  /** Events per Elasticsearch batch at most (default 1000, or half the prefetch when given). */
  readonly maxBatch?: number;
  /** How long the first event of a batch waits for company (default 5 ms). */
  readonly maxDelayMs?: number;
  /**
   * Makes what was applied searchable (the query service passes the consistency tracker's
   * coalesced refresh, so waiting reads profit from it too). Called off the ack path, at most
   * once per `refreshEveryMs`, after a batch that leaves no backlog: what a plain search sees
   * is then about that old, while a backlog is drained without refreshes in its way.
   */
  readonly refresh?: () => Promise<void>;
  /** Default 100 ms; 0 leaves searchability to the index's refresh interval and waiting reads. */
  readonly refreshEveryMs?: number;
  /**
   * Called after every batch is written (applied: a real-time get sees it; searchable after
   * the next refresh, see ConsistencyTracker).
   */
  readonly onApplied?: (streams: StreamVersion[], position: string) => void;
  /** Every event of a written batch, in the order applied (for an audit of per-stream order). */
  readonly onEventsApplied?: (events: readonly AppliedEvent[]) => void;
  readonly metrics?: Registry;
}

/**
 * Batches in the engine at once: while one is written the next reads what it needs (the
 * engine orders their writes; see ProjectionEngine.project).
 */
const PIPELINE = 2;

/** The outcome of an event released before it was applied (nobody acks it). */
const handedOver = new DependencyUnavailableError('projector', 'the partition was handed over');

/** One event a projector applied. */
export interface AppliedEvent {
  readonly streamType: string;
  readonly streamId: string;
  readonly version: number;
  /** Delivered before (to a projector that died or dropped it). */
  readonly redelivered: boolean;
}

interface Pending {
  readonly event: EventEnvelope;
  readonly redelivered: boolean;
  /** Aborted when it was released: another projector will apply it. */
  readonly gone: AbortSignal;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * The live projector: takes the events from its subscription and writes the read models in
 * batches. Every delivery waits for the batch holding its event; the delivery settling is
 * what acknowledges it, so an event is acked only after Elasticsearch accepted its documents. Batches are not refreshed: the index's
 * refresh interval, or a reader holding a consistency token, makes them searchable. A batch closes when it
 * reaches `maxBatch` events or its first event waited `maxDelayMs`, whichever comes first;
 * while a batch is being written the next one fills up, so batches grow with the load, and a
 * full one reads its documents meanwhile (a pipeline of two; writes and acks stay in order).
 * An event Elasticsearch refuses fails its delivery with a ValidationError: the subscription
 * dead-letters it with the reason and the others flow on. Elasticsearch being down fails
 * nothing: the batch is retried until it succeeds.
 */
export class Projector {
  private readonly log: Logger;
  private readonly pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The last batch handed to the engine: resolves once settled, true when it was written. */
  private last: Promise<boolean> | undefined;
  /** Batches handed to the engine and not settled yet (at most PIPELINE). */
  private inFlight = 0;
  private paused = false;
  private stopped = false;
  private position = '0';
  private lastOccurredAt: number | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private lastRefreshAt = 0;
  private readonly metrics;

  constructor(private readonly opts: ProjectorOptions) {
    this.log = opts.logger.child({ component: 'projector' });
    const registers = opts.metrics ? [opts.metrics] : [];
    this.metrics = {
      events: new Counter({
        name: 'projector_events_total',
        help: 'Events handled by the projector, by outcome',
        labelNames: ['outcome'] as const,
        registers,
      }),
      batchSize: new Histogram({
        name: 'projector_batch_size',
        help: 'Events per Elasticsearch batch',
        buckets: [1, 2, 5, 10, 25, 50, 100, 200, 500],
        registers,
      }),
      batchSeconds: new Histogram({
        name: 'projector_batch_duration_seconds',
        help: 'Time to write one batch',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers,
      }),
      lag: new Gauge({
        name: 'projector_lag_seconds',
        help: 'Age of the last applied event when it was applied',
        registers,
      }),
      checkpoint: new Gauge({
        name: 'projector_checkpoint_position',
        help: 'Highest global event position applied',
        registers,
      }),
    };
  }

  get isConsuming(): boolean {
    return this.opts.subscription.isConsuming;
  }

  /** The partitions this instance applies now. */
  get activePartitions(): readonly number[] {
    return this.opts.subscription.activePartitions;
  }

  /** Highest global position applied by this projector. */
  get checkpoint(): string {
    return this.position;
  }

  private get maxBatch(): number {
    return this.opts.maxBatch ?? (this.opts.prefetch ? Math.max(1, this.opts.prefetch >> 1) : 1000);
  }

  async start(): Promise<void> {
    await this.opts.subscription.start(
      {
        deliver: (delivery) => this.handle(delivery),
        malformed: () => this.metrics.events.inc({ outcome: 'dead_lettered' }),
      },
      { inFlight: this.opts.prefetch ?? 2 * this.maxBatch },
    );
  }

  /** Finishes the batch being written, then holds new ones (a rebuild's final catch-up). */
  async pause(): Promise<void> {
    this.paused = true;
    // Forget the timer, or `schedule` would take the cleared one for a running one and never
    // close a batch again after `resume` (below maxBatch).
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.last;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.opts.subscription.stop();
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.last;
    clearTimeout(this.refreshTimer);
  }

  private handle({ event, redelivered, released }: EventDelivery): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ event, redelivered, gone: released, resolve, reject });
      this.schedule();
    });
  }

  /**
   * A full batch goes to the engine while fewer than PIPELINE are there; one that is not full
   * after `maxDelayMs` goes when none is (it would only be written after the one ahead
   * anyway, and meanwhile it keeps growing).
   */
  private schedule(): void {
    if (this.paused || this.pending.length === 0) return;
    if (this.pending.length >= this.maxBatch) {
      if (this.inFlight >= PIPELINE) return;
      clearTimeout(this.timer);
      this.timer = undefined;
      this.flush();
      return;
    }
    if (this.inFlight > 0) return;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (this.inFlight > 0 || this.paused) return;
      this.flush();
    }, this.opts.maxDelayMs ?? 5);
  }

  /** Hands the next batch to the engine behind the one being written, if any. */
  private flush(): void {
    const batch = this.pending.splice(0, this.maxBatch);
    const done = this.write(batch, this.last);
    this.last = done;
    this.inFlight++;
    void done.finally(() => {
      this.inFlight--;
      if (this.last === done) this.last = undefined;
      this.schedule();
    });
    // The next batch may read while this one is written.
    this.schedule();
  }

  /**
   * Writes and settles one batch, after `before` (the batch ahead of it) settled: batches are
   * written and acknowledged in delivery order. True when it was written.
   */
  private async write(taken: Pending[], before: Promise<boolean> | undefined): Promise<boolean> {
    let batch = taken;
    const started = process.hrtime.bigint();
    const startedAt = new Date();
    for (let attempt = 1; ; attempt++) {
      // Released events belong to the projector that took their partition over:
      // never apply them here after that (a write already on its way is harmless - see
      // docs/scaling.md: guarded by if_seq_no, merged by per-field versions).
      for (const p of batch) if (p.gone.aborted) p.reject(handedOver);
      batch = batch.filter((p) => !p.gone.aborted);
      if (batch.length === 0) return (await before) ?? true;
      const events = batch.map((p) => p.event);
      try {
        const result = await this.opts.engine.project(events, this.opts.targets, false, before);
        if (before && !(await before)) throw new Error('the batch before was not written');
        this.settle(batch, result.rejected, startedAt);
        // A backlog: a full batch waiting, or another one in the engine behind this one.
        this.scheduleRefresh(this.pending.length >= this.maxBatch || this.inFlight > 1);
        this.metrics.batchSize.observe(batch.length);
        this.metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        return true;
      } catch (err) {
        if (this.stopped) {
          await before;
          // Unsettled: the subscription delivers them again, to the next projector.
          for (const p of batch) p.reject(new DependencyUnavailableError('projector', 'stopping'));
          return false;
        }
        this.log.warn({ err, attempt, events: batch.length }, 'batch failed; retrying');
        await sleep(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  /** At most one refresh in flight and one per interval; none while a backlog drains. */
  private scheduleRefresh(backlog: boolean): void {
    const { refresh, refreshEveryMs = 100 } = this.opts;
    if (!refresh || refreshEveryMs <= 0 || backlog || this.refreshTimer || this.stopped) return;
    const wait = Math.max(0, this.lastRefreshAt + refreshEveryMs - Date.now());
    this.refreshTimer = setTimeout(() => {
      this.lastRefreshAt = Date.now();
      void refresh()
        .catch((err: unknown) => this.log.warn({ err }, 'refresh failed'))
        .finally(() => (this.refreshTimer = undefined));
    }, wait);
  }

  private settle(
    batch: readonly Pending[],
    rejected: ReadonlyMap<number, string>,
    startedAt: Date,
  ): void {
    const reached = new Map<string, StreamVersion>();
    // Off, a span records nothing: not made at all (its attributes cost per event).
    const tracing = isTracing();
    let applied = 0;
    batch.forEach((p, at) => {
      const reason = rejected.get(at);
      // One CONSUMER span per event, a child of the trace the command started (its
      // metadata carries the HTTP request's traceparent).
      if (tracing) {
        recordSpan('projector', `project ${p.event.streamType}.${p.event.type}`, {
          kind: SpanKind.CONSUMER,
          parent: p.event.metadata,
          startTime: startedAt,
          attributes: {
            'messaging.message.id': p.event.eventId,
            'cqrs.stream': `${p.event.streamType}:${p.event.streamId}`,
            'cqrs.version': p.event.version,
            'cqrs.batch.size': batch.length,
          },
          ...(reason !== undefined ? { error: reason } : {}),
        });
      }
      if (reason !== undefined) {
        this.metrics.events.inc({ outcome: 'dead_lettered' });
        p.reject(new ValidationError(reason));
        return;
      }
      const e = p.event;
      const key = `${e.streamType}:${e.streamId}`;
      const known = reached.get(key);
      if (!known || known.version < e.version) {
        reached.set(key, { streamType: e.streamType, streamId: e.streamId, version: e.version });
      }
      if (BigInt(e.position) > BigInt(this.position)) this.position = e.position;
      const at2 = Date.parse(e.occurredAt);
      if (!this.lastOccurredAt || at2 > this.lastOccurredAt) this.lastOccurredAt = at2;
      applied++;
      p.resolve();
    });
    if (applied > 0) this.metrics.events.inc({ outcome: 'applied' }, applied);
    this.metrics.checkpoint.set(Number(this.position));
    if (this.lastOccurredAt)
      this.metrics.lag.set(Math.max(0, (Date.now() - this.lastOccurredAt) / 1000));
    if (reached.size > 0) this.opts.onApplied?.([...reached.values()], this.position);
    if (this.opts.onEventsApplied) {
      this.opts.onEventsApplied(
        // Applied while this instance still held the partition (see flush).
        batch.flatMap((p, at) =>
          rejected.has(at) || p.gone.aborted
            ? []
            : [
                {
                  streamType: p.event.streamType,
                  streamId: p.event.streamId,
                  version: p.event.version,
                  redelivered: p.redelivered,
                },
              ],
        ),
      );
    }
  }
}
