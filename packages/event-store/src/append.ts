import {
  ClaimConflictError,
  ConcurrencyConflictError,
  ValidationError,
  type AppendRequest,
  type AppendResult,
} from '@cqrs/core';
import type { Knex } from 'knex';
import { claimStatements, isClaimTaken, takenClaims } from './claims';
import { isDuplicateKey, isLockContention, rethrowAsUnavailable } from './db-errors';
import {
  GroupRolledBack,
  type AppendWrites,
  type GroupCommitter,
  type InsertRows,
  type PreparedAppend,
} from './group-commit';
import { deadlineStatements } from './deadlines';
import {
  completedKeyInsert,
  completeKeyUpdate,
  IdempotencyKeyTaken,
  isKeyTaken,
  resolveTakenKey,
  type IdempotencyDeps,
  type SqlExpression,
} from './idempotency';
import {
  outboxTemplate,
  type OutboxTemplate,
  type PositionTemplate,
  type UnpositionedEvent,
} from './outbox-message';
import { toIsoMicros, toSqlDatetime } from './rows';

export interface AppendDeps extends IdempotencyDeps {
  /** `@@auto_increment_increment`: the distance between positions of one multi-row insert. */
  readonly positionStep: () => Promise<bigint>;
  /** Whether the append writes the outbox rows (MySqlEventStoreOptions.outbox). */
  readonly outbox: boolean;
}

const DEADLOCK_RETRIES = 4;

/**
 * The append path (docs/event-store.md "The append path"). One transaction, no read before
 * writing, and without an Idempotency-Key one round trip:
 *
 *   START TRANSACTION; INSERT INTO events ...; INSERT INTO outbox ...; COMMIT
 *
 * - the events at versions expectedVersion+1.. in one multi-row INSERT: the unique
 *   (stream_type, stream_id, version) turns a lost race into a duplicate key, which stops
 *   the batch (and this append: see GroupCommitter);
 * - their outbox rows, whose body and headers carry the event positions: one multi-row
 *   simple insert takes consecutive auto-increment values, so SQL fills them in from
 *   LAST_INSERT_ID() (the events insert's first value) without a round trip in between;
 * - with a key, the UPDATE completing it goes in the same batch (before the outbox insert,
 *   which would move LAST_INSERT_ID()); when it matched nothing, the append runs again with
 *   an INSERT of the completed row in its place - one more round trip.
 * - with claims and deadlines (docs/room-calendar.md), their DELETEs and INSERTs after the
 *   outbox rows, still in the same batch: a held key fails the INSERT, and so the append.
 * Appends that arrive while others are in flight share one transaction (group commit), each
 * behind its own savepoint and with its own outcome.
 * Only after a failure does it read: the stream's current version for the conflict error,
 * the keys another stream holds, or the idempotency record that beat us.
 *
 * The caller's expectedVersion must never be ahead of the stream: the runtime either loaded
 * the stream before deciding, or (a creating command on a stream it has not read) expects
 * version 0, which no stream is ahead of - so this holds without a check here.
 */
export async function appendToStream(
  knex: Knex,
  committer: GroupCommitter,
  request: AppendRequest,
  deps: AppendDeps,
): Promise<AppendResult> {
  assertAppendable(request);
  const prepared = prepareAppend(request, deps, await deps.positionStep());
  for (let tries = 1; ; tries++) {
    try {
      return await committer.commit(prepared);
    } catch (failure) {
      // InnoDB rolled the whole transaction back: running it again is safe, and tells a real
      // conflict (duplicate version or key) from a lock-order accident between racing inserts.
      const err = failure instanceof GroupRolledBack ? failure.cause : failure;
      if (failure instanceof GroupRolledBack && tries < DEADLOCK_RETRIES) {
        await new Promise((r) => setTimeout(r, Math.random() * 5 * tries));
        continue;
      }
      if (isClaimTaken(err, request)) {
        const taken = await takenClaims(knex, request).catch(rethrowAsUnavailable);
        if (taken.length > 0) {
          throw new ClaimConflictError(`${request.streamType}:${request.streamId}`, taken);
        }
        // Its holder let go between our INSERT and our look: the keys may be free now.
        if (tries < DEADLOCK_RETRIES) continue;
      }
      return explainFailure(knex, request, deps, err);
    }
  }
}

/** The append's rows and statements and how to read its result (see PreparedAppend). */
function prepareAppend(request: AppendRequest, deps: AppendDeps, step: bigint): PreparedAppend {
  const { streamType, streamId, metadata, idempotency } = request;
  // One clock reading and one DATETIME(6) literal for all of the append's rows.
  const now = deps.clock.now();
  const occurredAt = toIsoMicros(now);
  const sqlAt = toSqlDatetime(occurredAt);
  const events: UnpositionedEvent[] = request.events.map((e, i) => ({
    eventId: deps.ids(),
    streamType,
    streamId,
    version: request.expectedVersion + i + 1,
    type: e.type,
    schemaVersion: e.schemaVersion ?? 1,
    occurredAt,
    data: e.data,
    metadata,
  }));
  const rest = [...claimStatements(request, sqlAt), ...deadlineStatements(request)];
  const token = idempotency ? deps.ids() : '';
  const result = idempotency ? resultTemplate(streamType, streamId, events) : undefined;
  const messages = deps.outbox ? events.map(outboxTemplate) : undefined;
  const writesAt = (at: number): AppendWrites => {
    const outbox = messages && outboxRows(messages, step, at, sqlAt);
    if (!idempotency || !result) return { outbox, rest };
    const positions = positionsExpression(result, step, at);
    return {
      key: {
        update: completeKeyUpdate(idempotency, positions, deps, now, token),
        insert: completedKeyInsert(idempotency, positions, deps, now, token),
      },
      outbox,
      rest,
    };
  };
  const resultOf = (insertId: bigint, at: number): AppendResult => {
    const appended = events.map((e, i) => ({
      eventId: e.eventId,
      type: e.type,
      version: e.version,
      position: String(insertId + BigInt(at + i) * step),
    }));
    const last = appended[appended.length - 1]!;
    return {
      streamType,
      streamId,
      version: last.version,
      position: last.position,
      events: appended,
    };
  };
  const eventRows = insertEvents(events, sqlAt);
  const own = writesAt(0);
  const writes = (at: number) => (at === 0 ? own : writesAt(at));
  const bytes = [eventRows, own.outbox, own.key?.update, ...rest].reduce(
    (n, s) =>
      (s?.values ?? []).reduce<number>((m, v) => m + (typeof v === 'string' ? v.length : 8), n),
    0,
  );
  return {
    events: eventRows,
    count: events.length,
    writes,
    key: idempotency?.key,
    bytes,
    resultOf,
  };
}

/** The row tuples' SQL per number of rows, built once (appends are one or a few events). */
function memo(build: (rows: number) => string): (rows: number) => string {
  const built: string[] = [];
  return (rows) => (built[rows] ??= build(rows));
}

const EVENTS_INTO = `INSERT INTO events
  (event_id, stream_type, stream_id, version, event_type, schema_version, data, metadata, occurred_at)
  VALUES `;
const eventTuples = memo((rows) =>
  Array<string>(rows).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', '),
);

function insertEvents(events: readonly UnpositionedEvent[], at: string): InsertRows {
  const metadataJson = JSON.stringify(events[0]!.metadata);
  const values: unknown[] = [];
  for (const e of events) {
    values.push(
      e.eventId,
      e.streamType,
      e.streamId,
      e.version,
      e.type,
      e.schemaVersion,
      JSON.stringify(e.data),
      metadataJson,
      at,
    );
  }
  return { into: EVENTS_INTO, rows: eventTuples(events.length), values };
}

/**
 * `LAST_INSERT_ID() + row * step`: the position of the events insert's row `row` (consecutive
 * values for a multi-row simple insert - innodb_autoinc_lock_mode 0, 1 and 2 alike).
 */
function positionSql(row: number, step: bigint): string {
  return row === 0 ? 'LAST_INSERT_ID()' : `LAST_INSERT_ID() + ${BigInt(row) * step}`;
}

/**
 * A template as `CONCAT(?, <position>, ?, ...)` with its parts as placeholder values, the
 * append's event i being row `at + i` of the events insert.
 */
function positionsExpression(template: PositionTemplate, step: bigint, at: number): SqlExpression {
  let sql = 'CONCAT(?';
  for (const hole of template.holes) sql += `, ${positionSql(at + hole, step)}, ?`;
  return { sql: `${sql})`, values: template.parts };
}

const OUTBOX_INTO = `INSERT INTO outbox (event_id, event_type, routing_key, payload, headers, occurred_at)
  VALUES `;

/** `sqlAt`: the messages' occurredAt (the append's) as a DATETIME(6) literal. */
function outboxRows(
  messages: readonly OutboxTemplate[],
  step: bigint,
  at: number,
  sqlAt: string,
): InsertRows {
  const rows: string[] = [];
  const values: unknown[] = [];
  for (const m of messages) {
    const payload = positionsExpression(m.payload, step, at);
    const headers = positionsExpression(m.headers, step, at);
    rows.push(`(?, ?, ?, ${payload.sql}, ${headers.sql}, ?)`);
    values.push(m.eventId, m.eventType, m.routingKey, ...payload.values, ...headers.values, sqlAt);
  }
  return { into: OUTBOX_INTO, rows: rows.join(', '), values };
}

/** `JSON.stringify` of the AppendResult, with its positions left to SQL. */
export function resultTemplate(
  streamType: string,
  streamId: string,
  events: readonly Pick<UnpositionedEvent, 'eventId' | 'type' | 'version'>[],
): PositionTemplate {
  const last = events.length - 1;
  const head = JSON.stringify({ streamType, streamId, version: events[last]!.version });
  const parts = [`${head.slice(0, -1)},"position":"`];
  const holes = [last];
  let part = '","events":[';
  events.forEach((e, i) => {
    const event = JSON.stringify({ eventId: e.eventId, type: e.type, version: e.version });
    parts.push(`${part}${event.slice(0, -1)},"position":"`);
    holes.push(i);
    part = i === last ? '"}]}' : '"},';
  });
  parts.push(part);
  return { parts, holes };
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
