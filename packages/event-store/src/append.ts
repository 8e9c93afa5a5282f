import {
  ConcurrencyConflictError,
  ValidationError,
  type AppendRequest,
  type AppendResult,
  type EventEnvelope,
} from '@cqrs/core';
import type { Knex } from 'knex';
import { isDeadlock, isDuplicateKey, isLockContention, rethrowAsUnavailable } from './db-errors';
import {
  completeIdempotencyKey,
  IdempotencyKeyTaken,
  isKeyTaken,
  resolveTakenKey,
  type IdempotencyDeps,
} from './idempotency';
import { toOutboxMessage } from './outbox-message';
import { toIsoMicros, toSqlDatetime } from './rows';

export interface AppendDeps extends IdempotencyDeps {
  /** `@@auto_increment_increment`: the distance between positions of one multi-row insert. */
  readonly positionStep: () => Promise<bigint>;
}

const DEADLOCK_RETRIES = 4;

interface InsertHeader {
  readonly affectedRows: number;
  readonly insertId: number | string;
}

/**
 * The append path (docs/event-store.md "Append"). One transaction, no read before writing:
 *   1. one multi-row INSERT of the events at versions expectedVersion+1.. - the unique
 *      (stream_type, stream_id, version) turns a lost race into a duplicate key;
 *   2. one multi-row INSERT of their outbox rows (positions from the insert id: one multi-row
 *      simple insert takes consecutive auto-increment values);
 *   3. the idempotency record, when the request has a key.
 * Only after a failure does it read: the stream's current version for the conflict error,
 * or the idempotency record that beat us.
 *
 * The caller's expectedVersion must be a version it has read (never ahead of the stream):
 * the runtime loads the stream before deciding, so this holds without a check here.
 */
export async function appendToStream(
  knex: Knex,
  request: AppendRequest,
  deps: AppendDeps,
): Promise<AppendResult> {
  assertAppendable(request);
  const step = await deps.positionStep();
  const occurredAt = toIsoMicros(deps.clock.now());
  const metadataJson = JSON.stringify(request.metadata);
  const proposed = request.events.map((e, i) => ({
    eventId: deps.ids(),
    type: e.type,
    data: e.data,
    schemaVersion: e.schemaVersion ?? 1,
    version: request.expectedVersion + i + 1,
  }));
  const attempt = () =>
    knex.transaction(async (trx): Promise<AppendResult> => {
      const [header] = (await trx.raw(
        `INSERT INTO events
           (event_id, stream_type, stream_id, version, event_type, schema_version, data, metadata, occurred_at)
         VALUES ${proposed.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        proposed.flatMap((e) => [
          e.eventId,
          request.streamType,
          request.streamId,
          e.version,
          e.type,
          e.schemaVersion,
          JSON.stringify(e.data),
          metadataJson,
          toSqlDatetime(occurredAt),
        ]),
      )) as [InsertHeader];
      if (header.affectedRows !== proposed.length) {
        throw new Error(
          `events insert affected ${header.affectedRows} rows, expected ${proposed.length}`,
        );
      }
      const first = BigInt(String(header.insertId));
      const stored: EventEnvelope[] = proposed.map((e, i) => ({
        eventId: e.eventId,
        streamType: request.streamType,
        streamId: request.streamId,
        version: e.version,
        position: String(first + BigInt(i) * step),
        type: e.type,
        schemaVersion: e.schemaVersion,
        occurredAt,
        data: e.data,
        metadata: request.metadata,
      }));
      const outbox = stored.map(toOutboxMessage);
      await trx.raw(
        `INSERT INTO outbox (event_id, event_type, routing_key, payload, headers, occurred_at)
         VALUES ${outbox.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
        outbox.flatMap((m) => [
          m.eventId,
          m.eventType,
          m.routingKey,
          m.payload,
          JSON.stringify(m.headers),
          toSqlDatetime(m.occurredAt),
        ]),
      );
      const last = stored[stored.length - 1]!;
      const result: AppendResult = {
        streamType: request.streamType,
        streamId: request.streamId,
        version: last.version,
        position: last.position,
        events: stored.map((e) => ({
          eventId: e.eventId,
          type: e.type,
          version: e.version,
          position: e.position,
        })),
      };
      if (request.idempotency) await completeIdempotencyKey(trx, request.idempotency, result, deps);
      return result;
    });
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      // InnoDB rolled the whole transaction back: running it again is safe, and tells a real
      // conflict (duplicate version or key) from a lock-order accident between racing inserts.
      if (isDeadlock(err) && tries < DEADLOCK_RETRIES) {
        await new Promise((r) => setTimeout(r, Math.random() * 5 * tries));
        continue;
      }
      return explainFailure(knex, request, deps, err);
    }
  }
}

/** Turns a failed append into the error (or replayed result) the caller should see. */
async function explainFailure(
  knex: Knex,
  request: AppendRequest,
  deps: AppendDeps,
  err: unknown,
): Promise<AppendResult> {
  try {
    if (err instanceof IdempotencyKeyTaken && request.idempotency)
      return await resolveTakenKey(knex, request.idempotency);
    if (isDuplicateKey(err, 'uq_events_stream_version') || isLockContention(err)) {
      // The winner may have been this very request, sent twice: then its result is the answer.
      if (request.idempotency && (await isKeyTaken(knex, request.idempotency, deps.clock.now())))
        return await resolveTakenKey(knex, request.idempotency);
      const current = await currentVersion(knex, request.streamType, request.streamId);
      throw new ConcurrencyConflictError(
        `${request.streamType}:${request.streamId}`,
        request.expectedVersion,
        current,
      );
    }
    throw err;
  } catch (explained) {
    return rethrowAsUnavailable(explained);
  }
}

/** The stream's last version (0 when it has no events). Only read after a failed append. */
export async function currentVersion(
  knex: Knex,
  streamType: string,
  streamId: string,
): Promise<number> {
  const [rows] = (await knex.raw(
    'SELECT COALESCE(MAX(version), 0) AS v FROM events WHERE stream_type = ? AND stream_id = ?',
    [streamType, streamId],
  )) as [{ v: number | string }[]];
  return Number(rows[0]?.v ?? 0);
}

function assertAppendable(request: AppendRequest): void {
  const problems: { path: string; message: string }[] = [];
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(request.streamType))
    problems.push({ path: 'streamType', message: 'must be 1-64 of [A-Za-z0-9_-]' });
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(request.streamId))
    problems.push({ path: 'streamId', message: 'must be 1-64 of [A-Za-z0-9_-]' });
  if (!Number.isInteger(request.expectedVersion) || request.expectedVersion < 0)
    problems.push({ path: 'expectedVersion', message: 'must be a whole number >= 0' });
  if (request.events.length === 0)
    problems.push({ path: 'events', message: 'must hold at least one event' });
  request.events.forEach((e, i) => {
    // No dots: the type is the last word of the routing key `<streamType>.<EventType>`.
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,127}$/.test(e.type))
      problems.push({ path: `events/${i}/type`, message: 'must be 1-128 of [A-Za-z0-9_-]' });
  });
  if (problems.length > 0) throw new ValidationError('Cannot append: invalid request', problems);
}
