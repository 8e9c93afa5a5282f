import { AggregateRuntime } from '@cqrs/aggregates';
import { uuidV7 } from '@cqrs/core';
import { createKnex, MySqlEventStore } from '@cqrs/event-store';
import { hotelAggregates } from '@cqrs/hotel';
import { createPool, type Pool, type ResultSetHeader } from 'mysql2/promise';
import {
  benchDatabase,
  mysqlConnectionOptions,
  type Benchmark,
  type BenchContext,
} from './context';
import { closedLoop, plannedComparisonMs, throughputRow, timedAb, type ResultRow } from './harness';

export const R1_LEVELS = [1, 8, 32, 64] as const;
/**
 * 0.85 of the raw driver alone; where many commands are in flight group commit shares one
 * transaction (one fsync) between them, so there the goal is 1.5x the one-transaction-per-
 * command baseline (issue 14).
 */
const r1Target = (concurrency: number) => (concurrency >= 32 ? 1.5 : 0.85);
/** Connections per side: the same for ours (Knex/tarn) and the baseline (mysql2 pool). */
export const poolFor = (concurrency: number) => Math.min(concurrency, 16);

/** Our in-process command path: the aggregate runtime on the MySQL event store. */
export interface InProcessPath {
  readonly runtime: AggregateRuntime;
  /** RegisterCustomer on a new customer id. */
  registerCustomer(id: string): Promise<void>;
  close(): Promise<void>;
}

export function inProcessPath(url: string, poolMax: number): InProcessPath {
  const knex = createKnex(url, { poolMax });
  const store = new MySqlEventStore(knex);
  const runtime = new AggregateRuntime({ store, aggregates: hotelAggregates });
  return {
    runtime,
    async registerCustomer(id) {
      await runtime.execute({
        aggregateType: 'customer',
        aggregateId: id,
        command: { type: 'RegisterCustomer', data: customerData(id) },
        metadata: { correlationId: uuidV7(), actor: 'bench' },
      });
    },
    async close() {
      await runtime.close();
      await knex.destroy();
    },
  };
}

export function customerData(id: string) {
  return { name: `Guest ${id}`, email: `${id}@bench.example` };
}

/**
 * The raw baseline: mysql2 running, statement for statement, the SQL our path sends for one
 * RegisterCustomer on a new stream - the append as one multi-statement query (START
 * TRANSACTION, INSERT of the event, INSERT of its outbox row with the position filled in from
 * LAST_INSERT_ID(), COMMIT), and no read before it (the runtime appends a creating command on
 * a stream it has not read at version 0 and lets the unique key check it) - on a pool of the
 * same size with the same connection options. What it skips is everything of ours around the
 * SQL: command validation, the statechart decision, the actor cache, the store's code.
 */
export class RawSqlPath {
  private readonly pool: Pool;

  constructor(url: string, poolMax: number) {
    this.pool = createPool({
      ...mysqlConnectionOptions(url),
      multipleStatements: true,
      connectionLimit: poolMax,
    });
  }

  /**
   * Returns the event's position. The raw HTTP server (R5) passes the request's payload and
   * the metadata our service would record; R1 lets both default to what its ours-side sends.
   */
  async registerCustomer(
    id: string,
    data: object = customerData(id),
    metadata: object = { correlationId: uuidV7(), actor: 'bench' },
  ): Promise<string> {
    const eventId = uuidV7();
    const occurredAt = new Date().toISOString().replace(/Z$/, '000Z');
    const sqlTime = occurredAt.replace('T', ' ').replace(/Z$/, '');
    const dataJson = JSON.stringify(data);
    const { correlationId, causationId = correlationId } = metadata as {
      correlationId: string;
      causationId?: string;
    };
    const metadataJson = JSON.stringify(metadata);
    const conn = await this.pool.getConnection();
    try {
      const [results] = await conn.query<ResultSetHeader[]>(
        `START TRANSACTION;
INSERT INTO events
  (event_id, stream_type, stream_id, version, event_type, schema_version, data, metadata, occurred_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);
INSERT INTO outbox (event_id, event_type, routing_key, payload, headers, occurred_at)
  VALUES (?, ?, ?, CONCAT(?, LAST_INSERT_ID(), ?), CONCAT(?, LAST_INSERT_ID(), ?), ?);
COMMIT`,
        [
          eventId,
          'customer',
          id,
          1,
          'CustomerRegistered',
          1,
          dataJson,
          metadataJson,
          sqlTime,
          eventId,
          'CustomerRegistered',
          'customer.CustomerRegistered',
          `{"eventId":"${eventId}","streamType":"customer","streamId":"${id}","version":1,"position":"`,
          `","type":"CustomerRegistered","schemaVersion":1,"occurredAt":"${occurredAt}","data":${dataJson},"metadata":${metadataJson}}`,
          `{"stream-type":"customer","stream-id":"${id}","stream-version":1,"position":"`,
          `","correlation-id":"${correlationId}","causation-id":"${causationId}"}`,
          sqlTime,
        ],
      );
      return String(results[1]!.insertId);
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** Distinct aggregate ids: a run tag, the side, the round, the worker and a counter. */
export function idSource(tag: string) {
  let n = 0;
  return (side: string) => `${tag}-${side}-${(n++).toString(36)}`;
}

export const r1: Benchmark = {
  name: 'R1 in-process commands vs mysql2',
  rows: R1_LEVELS.map((c) => ({
    id: `R1@c${c}`,
    unit: 'commands/s',
    target: `ratio >= ${r1Target(c)}`,
  })),
  plannedMs: (quick) => R1_LEVELS.length * plannedComparisonMs(quick) + 3000,
  async run(ctx: BenchContext): Promise<ResultRow[]> {
    const db = await benchDatabase(ctx, 'r1');
    const nextId = idSource(`r1${Date.now().toString(36)}`);
    const rows: ResultRow[] = [];
    for (const concurrency of R1_LEVELS) {
      const pool = poolFor(concurrency);
      const ours = inProcessPath(db.url, pool);
      const raw = new RawSqlPath(db.url, pool);
      try {
        const loop = (op: () => Promise<void>, durationMs: number) =>
          closedLoop({
            concurrency,
            durationMs,
            op,
            onProgress: (n) => ctx.progress.tick(n),
          });
        const oursOp = () => ours.registerCustomer(nextId('a'));
        const rawOp = async () => {
          await raw.registerCustomer(nextId('b'));
        };
        const totals = await timedAb({
          label: `c=${concurrency}`,
          quick: ctx.quick,
          progress: ctx.progress,
          ours: (ms) => loop(oursOp, ms),
          baseline: (ms) => loop(rawOp, ms),
        });
        rows.push(
          throughputRow(`R1@c${concurrency}`, 'commands/s', r1Target(concurrency), totals, {
            concurrency,
            pool,
            command: 'RegisterCustomer on a new customer',
          }),
        );
      } finally {
        await ours.close();
        await raw.close();
      }
    }
    return rows;
  },
};
