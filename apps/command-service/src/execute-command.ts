import {
  parseCommand,
  type AggregateRegistry,
  type AggregateRuntime,
  type ExecuteResult,
} from '@cqrs/aggregates';
import {
  formatConsistencyToken,
  IdempotencyConflictError,
  NotFoundError,
  ValidationError,
  type AppendResult,
  type Command,
  type EventMetadata,
} from '@cqrs/core';
import { fingerprintOf, type IdempotencyClaim } from '@cqrs/event-store';
import type { FastifyBaseLogger } from 'fastify';
import type { EdgeOutcome } from './metrics';
import type { CommandAccepted } from './schemas';

/** The part of the event store that guards Idempotency-Keys (MySqlEventStore). */
export interface IdempotencyGate {
  claimIdempotencyKey(key: string, fingerprint: string): Promise<IdempotencyClaim>;
  releaseIdempotencyKey(claim: Extract<IdempotencyClaim, { kind: 'claimed' }>): Promise<void>;
}

export interface CommandRequest {
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly command: Command;
  /** From If-Match. */
  readonly expectedVersion?: number;
  readonly idempotencyKey?: string;
  readonly metadata: EventMetadata;
}

export interface CommandResponse {
  /** 201 when the command created the stream, else 200 - the same on a replay. */
  readonly status: 200 | 201;
  readonly body: CommandAccepted;
  /** Answered from the Idempotency-Key record, nothing appended. */
  readonly replayed: boolean;
}

export interface CommandExecutor {
  readonly runtime: AggregateRuntime;
  readonly aggregates: AggregateRegistry;
  readonly idempotency: IdempotencyGate;
  readonly log: FastifyBaseLogger;
  /** Counts what is answered before the runtime (which reports the rest itself). */
  readonly recordEdge?: (aggregateType: string, commandType: string, outcome: EdgeOutcome) => void;
}

/**
 * One command end to end: cheap checks first (unknown type; with an Idempotency-Key also the
 * command and its payload), then - with a key - a claim on the key (409 while another request holds it, 422 when it was
 * used for another command, the original answer when it completed), then the runtime's
 * decide + append, which completes the claim in the append transaction.
 */
export async function executeCommand(
  executor: CommandExecutor,
  request: CommandRequest,
): Promise<CommandResponse> {
  const record = (outcome: EdgeOutcome) =>
    executor.recordEdge?.(request.aggregateType, request.command.type, outcome);
  let idempotency: { key: string; fingerprint: string } | undefined;
  let claim: IdempotencyClaim | undefined;
  try {
    const definition = executor.aggregates.get(request.aggregateType);
    if (!definition) {
      throw new NotFoundError(`Unknown aggregate type "${request.aggregateType}"`, {
        aggregateType: request.aggregateType,
      });
    }
    if (request.idempotencyKey !== undefined) {
      // Before claiming the key: a command that can never run must not hold one. Without a
      // key the runtime's own check (the same function, first thing it does) is enough.
      parseCommand(definition, request.command);
      idempotency = {
        key: request.idempotencyKey,
        fingerprint: fingerprintOf({
          aggregateType: request.aggregateType,
          aggregateId: request.aggregateId,
          type: request.command.type,
          data: request.command.data ?? {},
        }),
      };
      claim = await executor.idempotency.claimIdempotencyKey(
        idempotency.key,
        idempotency.fingerprint,
      );
    }
  } catch (error) {
    if (error instanceof NotFoundError) record('not-found');
    else if (error instanceof ValidationError) record('invalid');
    else if (error instanceof IdempotencyConflictError) record('idempotency-conflict');
    throw error;
  }
  if (claim?.kind === 'replay') {
    record('replayed');
    return toResponse(fromRecord(claim.record.result), true);
  }
  if (!claim) return toResponse(await run(executor, request), false);

  const held = claim;
  try {
    return toResponse(await run(executor, request, idempotency), false);
  } catch (error) {
    // Only a still-pending claim is deleted: when the append did commit, this is a no-op.
    await executor.idempotency
      .releaseIdempotencyKey(held)
      .catch((releaseError: unknown) =>
        executor.log.warn(
          { err: releaseError, idempotencyKey: held.key },
          'could not release the Idempotency-Key; it frees itself when its lease runs out',
        ),
      );
    throw error;
  }
}

function run(
  executor: CommandExecutor,
  request: CommandRequest,
  idempotency?: { key: string; fingerprint: string },
): Promise<ExecuteResult> {
  return executor.runtime.execute({
    aggregateType: request.aggregateType,
    aggregateId: request.aggregateId,
    command: request.command,
    ...(request.expectedVersion !== undefined ? { expectedVersion: request.expectedVersion } : {}),
    metadata: request.metadata,
    ...(idempotency ? { idempotency } : {}),
  });
}

function fromRecord(result: AppendResult): ExecuteResult {
  return { result, created: result.events[0]?.version === 1 };
}

function toResponse({ result, created }: ExecuteResult, replayed: boolean): CommandResponse {
  return {
    status: created ? 201 : 200,
    replayed,
    body: {
      aggregateType: result.streamType,
      aggregateId: result.streamId,
      version: result.version,
      position: result.position,
      events: result.events.map((e) => ({ type: e.type, version: e.version })),
      consistencyToken: formatConsistencyToken({
        streamType: result.streamType,
        streamId: result.streamId,
        version: result.version,
      }),
    },
  };
}
