/**
 * The message shapes every part of the system agrees on: commands, recorded events and
 * their metadata, and the consistency token that links a command's result to a read.
 */
export interface Command<TType extends string = string, TData = Readonly<Record<string, unknown>>> {
  readonly type: TType;
  readonly data: TData;
}

export interface EventMetadata {
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly idempotencyKey?: string;
  readonly actor?: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
  readonly [key: string]: unknown;
}

/** An event as the aggregate proposes it, before it is stored. */
export interface DomainEvent<
  TType extends string = string,
  TData = Readonly<Record<string, unknown>>,
> {
  readonly type: TType;
  readonly data: TData;
}

/** An event as stored and published: the envelope of docs/api.md's "Event messages". */
export interface EventEnvelope<TData = Readonly<Record<string, unknown>>> {
  readonly eventId: string;
  readonly streamType: string;
  readonly streamId: string;
  readonly version: number;
  /** Global position in the event store, as a decimal string (it may exceed 2^53). */
  readonly position: string;
  readonly type: string;
  readonly schemaVersion: number;
  /** ISO-8601 with microseconds, UTC. */
  readonly occurredAt: string;
  readonly data: TData;
  readonly metadata: EventMetadata;
}

export interface StreamVersion {
  readonly streamType: string;
  readonly streamId: string;
  readonly version: number;
}

/** `reservation:r-1@2` - names a stream and the version a command produced. */
export function formatConsistencyToken(v: StreamVersion): string {
  return `${v.streamType}:${v.streamId}@${v.version}`;
}

const TOKEN = /^([A-Za-z][A-Za-z0-9_-]{0,63}):([A-Za-z0-9_-]{1,64})@(\d{1,15})$/;

/** Parses one token; returns undefined when it is malformed. */
export function parseConsistencyToken(token: string): StreamVersion | undefined {
  const m = TOKEN.exec(token.trim());
  if (!m) return undefined;
  return { streamType: m[1]!, streamId: m[2]!, version: Number(m[3]) };
}
