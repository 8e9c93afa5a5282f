/**
 * Projector benchmark: events/s through RabbitMQ -> batches -> Elasticsearch (all four
 * read models, applied), and publish-to-searchable latency of single events (a token wait:
 * applied, then one refresh).
 *
 *   npx tsx apps/query-service/src/bench.ts [events=6000] [samples=50] [prefetch=2000]
 *
 * Runs against the local stack in a vhost and index prefix of its own, removed afterwards.
 */
import { createTestDatabase, createTestIndexPrefix, createTestVhost } from '@cqrs/testing';
import { connect } from 'amqplib';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createQueryService } from './service';

const out = (s: string) => process.stdout.write(`${s}\n`);

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 6000);
  const samples = Number(process.argv[3] ?? 50);
  const prefetch = Number(process.argv[4] ?? 2000);
  const [es, vhost, db] = await Promise.all([
    createTestIndexPrefix('bench'),
    createTestVhost('bench'),
    createTestDatabase('bench'),
  ]);
  const service = await createQueryService(
    {
      elasticsearchUrl: es.url,
      indexPrefix: es.prefix,
      amqpUrl: vhost.url,
      eventsExchange: 'events',
      mysqlUrl: db.url,
      adminToken: undefined,
      roles: { api: true, projector: true },
      prefetch,
      batchDelayMs: 5,
    },
    pino({ level: 'warn' }),
  );
  const amqp = await connect(vhost.url);
  const channel = await amqp.createConfirmChannel();
  try {
    while (!service.projector?.isConsuming) await new Promise((r) => setTimeout(r, 50));
    let position = 0;
    const publish = (
      streamType: string,
      streamId: string,
      version: number,
      type: string,
      data: object,
    ) => {
      position++;
      const body = {
        eventId: randomUUID(),
        streamType,
        streamId,
        version,
        position: String(position),
        type,
        schemaVersion: 1,
        occurredAt: new Date().toISOString(),
        data,
        metadata: {},
      };
      channel.publish('events', `${streamType}.${type}`, Buffer.from(JSON.stringify(body)), {
        persistent: true,
        contentType: 'application/json',
        messageId: body.eventId,
      });
    };

    // Mix: 10% customers, 10% rooms, 80% reservation events (placed + confirmed).
    const customers = Math.max(1, Math.floor(total / 10));
    const t0 = performance.now();
    for (let i = 0; i < customers; i++) {
      publish('customer', `c${i}`, 1, 'CustomerRegistered', {
        name: `Guest ${i}`,
        email: `g${i}@example.com`,
      });
      publish('room', `rm${i}`, 1, 'RoomRegistered', {
        hotel: `Hotel ${i % 20}`,
        city: `City ${i % 7}`,
        number: String(100 + i),
        roomType: 'double',
        capacity: 2,
        ratePerNight: 9000,
      });
    }
    for (let i = 0; position < total; i++) {
      const id = `r${i}`;
      publish('reservation', id, 1, 'ReservationPlaced', {
        customerId: `c${i % customers}`,
        roomId: `rm${i % customers}`,
        checkIn: '2026-07-01',
        checkOut: '2026-07-03',
        guests: 2,
        nights: 2,
        ratePerNight: 9000,
        totalPrice: 18000,
      });
      if (position < total) publish('reservation', id, 2, 'ReservationConfirmed', {});
    }
    await channel.waitForConfirms();
    const published = performance.now();
    while (service.projector.checkpoint !== String(position))
      await new Promise((r) => setTimeout(r, 10));
    const done = performance.now();
    const seconds = (done - t0) / 1000;

    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) {
      const start = performance.now();
      publish('customer', `c${i}`, 2 + i, 'CustomerRenamed', { name: `Renamed ${i}` });
      await service.tracker.waitFor(
        [{ streamType: 'customer', streamId: `c${i}`, version: 2 + i }],
        10_000,
      );
      latencies.push(performance.now() - start);
    }
    latencies.sort((a, b) => a - b);
    const metrics = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
    const metric = (name: string) =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN);
    const batches = metric('projector_batch_size_count');
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
    out(`events                      ${position - samples}`);
    out(`publish time                ${((published - t0) / 1000).toFixed(2)} s`);
    out(`projected (applied) in      ${seconds.toFixed(2)} s`);
    out(`throughput                  ${Math.round((position - samples) / seconds)} events/s`);
    out(
      `batches                     ${batches} (mean ${(metric('projector_batch_size_sum') / batches).toFixed(0)} events, mean ${((metric('projector_batch_duration_seconds_sum') / batches) * 1000).toFixed(0)} ms)`,
    );
    out(
      `publish-to-searchable       p50 ${pct(0.5).toFixed(1)} ms  p95 ${pct(0.95).toFixed(1)} ms  max ${latencies.at(-1)!.toFixed(1)} ms  (${samples} renames, each fanning out to its reservations)`,
    );
  } finally {
    await amqp.close();
    await service.close();
    await Promise.all([es.drop(), vhost.drop(), db.drop()]);
  }
}

void main();
