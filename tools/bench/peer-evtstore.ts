import { AggregateRuntime } from '@cqrs/aggregates';
import { uuidV7 } from '@cqrs/core';
import { createKnex, MySqlEventStore } from '@cqrs/event-store';
import { hotelAggregates } from '@cqrs/hotel';
import knexFactory from 'knex';
import {
  benchDatabase,
  mysqlConnectionOptions,
  type Benchmark,
  type BenchContext,
} from './context';
import { closedLoop, plannedComparisonMs, throughputRow, timedAb, type ResultRow } from './harness';
import { customerData } from './r1-commands';
import { loadEvtstore } from './evtstore-api';

const CONCURRENCY = 8;
const AGGREGATES_PER_WORKER = 32;

/** evtstore's side of the comparison: a customer with register and rename commands. */
type CustomerEvt =
  | { type: 'CustomerRegistered'; name: string; email: string }
  | { type: 'CustomerRenamed'; name: string };
type CustomerAgg = { name: string; email: string; registered: boolean };
type CustomerCmd =
  { type: 'register'; name: string; email: string } | { type: 'rename'; name: string };

function evtstoreSide(url: string, poolMax: number) {
  const { createAggregate, createCommands, createDomain, CommandError, createProvider, migrate } =
    loadEvtstore();
  // The same driver and pool settings as createKnex; Knex's per-query warning that MySQL
  // ignores `.returning()` (evtstore asks for it) is silenced so it does not cost a write.
  const knex = knexFactory({
    client: 'mysql2',
    connection: mysqlConnectionOptions(url),
    pool: { min: 0, max: poolMax },
    log: { warn: () => undefined },
  });
  const provider = createProvider<CustomerEvt>({
    events: () => knex('evt_events'),
    bookmarks: () => knex('evt_bookmarks'),
  });
  const customer = createAggregate<CustomerEvt, CustomerAgg, 'customer'>({
    stream: 'customer',
    create: () => ({ name: '', email: '', registered: false }),
    fold: (ev) =>
      ev.type === 'CustomerRegistered'
        ? { name: ev.name, email: ev.email, registered: true }
        : { name: ev.name },
  });
  // useCache: evtstore's best configuration (it then reads only the tail after the cache).
  const { domain } = createDomain({ provider, useCache: true }, { customer });
  const commands = createCommands<CustomerEvt, CustomerAgg, CustomerCmd>(domain.customer, {
    async register(cmd, agg) {
      if (agg.registered) throw new CommandError('already registered');
      return { type: 'CustomerRegistered', name: cmd.name, email: cmd.email };
    },
    async rename(cmd, agg) {
      if (!agg.registered) throw new CommandError('unknown customer');
      return { type: 'CustomerRenamed', name: cmd.name };
    },
  });
  return {
    migrate: () => migrate({ client: knex, events: 'evt_events', bookmarks: 'evt_bookmarks' }),
    async append(id: string) {
      const d = customerData(id);
      const events = provider.createEvents('customer', id, 1, [
        { type: 'CustomerRegistered', ...d },
      ]);
      await provider.append('customer', id, 1, events);
    },
    register: (id: string) => commands.register(id, customerData(id)),
    rename: (id: string, name: string) => commands.rename(id, { name }),
    close: () => knex.destroy(),
  };
}

function oursSide(url: string, poolMax: number) {
  const knex = createKnex(url, { poolMax });
  const store = new MySqlEventStore(knex);
  // The same store without the outbox: the append evtstore can be compared with.
  const eventsOnly = new MySqlEventStore(knex, { outbox: false });
  const runtime = new AggregateRuntime({ store, aggregates: hotelAggregates });
  const metadata = () => ({ correlationId: uuidV7(), actor: 'bench' });
  const execute = (id: string, type: string, data: Record<string, unknown>) =>
    runtime.execute({
      aggregateType: 'customer',
      aggregateId: id,
      command: { type, data },
      metadata: metadata(),
    });
  return {
    async append(id: string, withOutbox = true) {
      await (withOutbox ? store : eventsOnly).appendToStream({
        streamType: 'customer',
        streamId: id,
        expectedVersion: 0,
        events: [{ type: 'CustomerRegistered', data: customerData(id) }],
        metadata: metadata(),
      });
    },
    register: (id: string) => execute(id, 'RegisterCustomer', customerData(id)),
    rename: (id: string, name: string) => execute(id, 'RenameCustomer', { name }),
    async close() {
      await runtime.close();
      await knex.destroy();
    },
  };
}

/**
 * Our event store and runtime against evtstore 12 (Knex provider) on the same MariaDB, same
 * driver, same pool size and concurrency:
 * - append-events-only: one event on a new stream, one row each - ours with
 *   `{ outbox: false }`, evtstore's append through Knex: one autocommit INSERT each. Like for like: evtstore has no
 *   transactional outbox of its own;
 * - append: the same, ours as deployed (events and outbox rows in one transaction): twice
 *   the rows and the message body, so not the same work - kept to show what the outbox costs;
 * - load-decide-append: RenameCustomer on existing customers (each worker cycles through
 *   its own aggregates, so no conflicts): ours through the aggregate runtime (actor cache,
 *   statechart decision), evtstore through createCommands with its aggregate cache on.
 */
export const peerEvtstore: Benchmark = {
  name: 'peer-evtstore',
  rows: [
    { id: 'peer-evtstore-append-events-only', unit: 'appends/s', target: 'ratio >= 1.2' },
    { id: 'peer-evtstore-append', unit: 'appends/s', target: 'report' },
    { id: 'peer-evtstore-lda', unit: 'commands/s', target: 'ratio >= 1.2' },
  ],
  plannedMs: (quick) => 3 * plannedComparisonMs(quick) + 4000,
  async run(ctx: BenchContext): Promise<ResultRow[]> {
    const db = await benchDatabase(ctx, 'peer');
    const ours = oursSide(db.url, CONCURRENCY);
    ctx.defer(() => ours.close());
    const theirs = evtstoreSide(db.url, CONCURRENCY);
    ctx.defer(() => theirs.close());
    await theirs.migrate();
    const tag = `p${Date.now().toString(36)}`;
    let n = 0;
    const loop = (op: (w: number) => Promise<unknown>, durationMs: number) =>
      closedLoop({
        concurrency: CONCURRENCY,
        durationMs,
        op: async (w) => void (await op(w)),
        onProgress: (c) => ctx.progress.tick(c),
      });

    const theirAppend = () => theirs.append(`${tag}-b-${n++}`);
    const eventsOnly = await timedAb({
      label: 'append, events only',
      quick: ctx.quick,
      progress: ctx.progress,
      ours: (ms) => loop(() => ours.append(`${tag}-e-${n++}`, false), ms),
      baseline: (ms) => loop(theirAppend, ms),
    });
    const append = await timedAb({
      label: 'append with outbox',
      quick: ctx.quick,
      progress: ctx.progress,
      ours: (ms) => loop(() => ours.append(`${tag}-a-${n++}`), ms),
      baseline: (ms) => loop(theirAppend, ms),
    });

    ctx.progress.phase('load-decide-append: registering customers');
    const ids = (side: string) =>
      Array.from({ length: CONCURRENCY }, (_, w) =>
        Array.from({ length: AGGREGATES_PER_WORKER }, (_, k) => `${tag}-${side}-${w}-${k}`),
      );
    const oursIds = ids('lda-a');
    const theirIds = ids('lda-b');
    await Promise.all(
      oursIds.map(async (list) => {
        for (const id of list) await ours.register(id);
      }),
    );
    await Promise.all(
      theirIds.map(async (list) => {
        for (const id of list) await theirs.register(id);
      }),
    );
    const cursor = new Array<number>(CONCURRENCY).fill(0);
    const pick = (all: string[][], w: number) => {
      const list = all[w]!;
      return list[cursor[w]!++ % list.length]!;
    };
    const oursLda = (w: number) => ours.rename(pick(oursIds, w), `Name ${n++}`);
    const theirLda = (w: number) => theirs.rename(pick(theirIds, w), `Name ${n++}`);
    const lda = await timedAb({
      label: 'load-decide-append',
      quick: ctx.quick,
      progress: ctx.progress,
      ours: (ms) => loop(oursLda, ms),
      baseline: (ms) => loop(theirLda, ms),
    });
    const details = {
      concurrency: CONCURRENCY,
      pool: CONCURRENCY,
      peer: 'evtstore@12.0.1 (Knex provider)',
    };
    return [
      throughputRow('peer-evtstore-append-events-only', 'appends/s', 1.2, eventsOnly, {
        ...details,
        ours: 'MySqlEventStore { outbox: false }: one autocommit INSERT',
        peer: 'evtstore@12.0.1 Knex provider append: one autocommit INSERT',
      }),
      {
        ...throughputRow('peer-evtstore-append', 'appends/s', null, append, details),
        note: 'not like for like: ours also writes the outbox row (message body) in the same transaction; evtstore has no outbox',
      },
      throughputRow('peer-evtstore-lda', 'commands/s', 1.2, lda, {
        ...details,
        aggregates: CONCURRENCY * AGGREGATES_PER_WORKER,
      }),
    ];
  },
};
