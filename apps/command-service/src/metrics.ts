import type { AggregateRegistry, DeadlineHooks, EdgeOutcome, RuntimeHooks } from '@cqrs/aggregates';
import { FastCounter, FastHistogram } from '@cqrs/telemetry';
import type { FastifyBaseLogger } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface CommandMetrics {
  /** For the runtime: every command it handled, live actors, survived failures. */
  readonly hooks: RuntimeHooks;
  /** Commands answered before the runtime: refused early, or replayed from their key. */
  recordEdge(aggregateType: string, commandType: string, outcome: EdgeOutcome): void;
}

/**
 * Command metrics, and a log line for each failure the runtime survives. Label values come
 * from the registry, never from the request as such: an unknown aggregate or command type is
 * counted as `unknown`, so a client cannot grow the series without bound.
 */
export function commandMetrics(
  registry: Registry,
  aggregates: AggregateRegistry,
  log: FastifyBaseLogger,
): CommandMetrics {
  // Every command passes these two: series resolved once (see FastCounter).
  const commands = new FastCounter({
    name: 'commands_total',
    help: 'Commands handled, by aggregate type, command type and outcome',
    labelNames: ['aggregate_type', 'command_type', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new FastHistogram({
    name: 'command_duration_seconds',
    help: 'Time in the aggregate runtime (queue, decide, append), by aggregate type and outcome',
    labelNames: ['aggregate_type', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'command_conflict_retries_total',
    help: 'Decisions retried after a concurrency conflict, by aggregate type',
    labelNames: ['aggregate_type'] as const,
    registers: [registry],
  });
  const liveActors = new Gauge({
    name: 'aggregate_live_actors',
    help: 'Aggregates held in memory by the runtime',
    registers: [registry],
  });
  const errors = new Counter({
    name: 'aggregate_runtime_errors_total',
    help: 'Failures the runtime survived (e.g. a snapshot that could not be saved), by operation',
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  liveActors.set(0);

  const labels = (aggregateType: string, commandType: string) => {
    const definition = aggregates.get(aggregateType);
    return {
      aggregate_type: definition ? aggregateType : 'unknown',
      command_type: definition?.commands.has(commandType) ? commandType : 'unknown',
    };
  };

  return {
    hooks: {
      onCommand(o) {
        const l = labels(o.aggregateType, o.commandType);
        commands.series(l.aggregate_type, l.command_type, o.outcome).inc();
        duration.series(l.aggregate_type, o.outcome).observe(o.durationMs / 1000);
        if (o.retries > 0) retries.inc({ aggregate_type: l.aggregate_type }, o.retries);
      },
      onLiveActorsChanged(n) {
        liveActors.set(n);
      },
      onError(error, context) {
        errors.inc({ operation: context.operation });
        log.warn({ err: error, ...context }, 'aggregate runtime: operation failed');
      },
    },
    recordEdge(aggregateType, commandType, outcome) {
      const l = labels(aggregateType, commandType);
      commands.series(l.aggregate_type, l.command_type, outcome).inc();
    },
  };
}

/**
 * Deadline metrics (docs/room-calendar.md "Deadlines"): how many are due, how late the oldest
 * is, and what became of those this process fired.
 */
export function deadlineMetrics(registry: Registry, log: FastifyBaseLogger): DeadlineHooks {
  const due = new Gauge({
    name: 'deadlines_due',
    help: 'Deadlines whose time has come and that no append has removed yet',
    registers: [registry],
  });
  const overdue = new Gauge({
    name: 'deadlines_overdue_seconds',
    help: 'Age of the oldest due deadline (0 when none is due)',
    registers: [registry],
  });
  const fired = new Counter({
    name: 'deadlines_fired_total',
    help: 'Deadlines this process fired, by outcome (fired, moot, failed)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  due.set(0);
  overdue.set(0);
  return {
    onDeadline(deadline, outcome, error) {
      fired.inc({ outcome });
      if (outcome === 'failed') {
        log.warn(
          {
            err: error,
            stream: `${deadline.streamType}:${deadline.streamId}`,
            deadline: deadline.name,
          },
          'deadline failed; it fires again when its lease runs out',
        );
      }
    },
    onStats(stats) {
      due.set(stats.due);
      overdue.set(
        stats.oldestDueAt ? Math.max(0, (Date.now() - stats.oldestDueAt.getTime()) / 1000) : 0,
      );
    },
    onError(error) {
      log.warn({ err: error }, 'deadline worker: poll failed');
    },
  };
}
