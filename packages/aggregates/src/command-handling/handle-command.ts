import {
  fingerprintOf,
  formatConsistencyToken,
  IdempotencyConflictError,
  NotFoundError,
  ValidationError,
  type AppendResult,
  type IdempotencyClaim,
  type IdempotencyGate,
} from '@cqrs/core';
import { parseCommand } from '../decide';
import type { AggregateRegistry } from '../definition';
import type {
  AggregateRuntime,
  CommandOutcome,
  ExecuteRequest,
  ExecuteResult,
} from '../runtime/aggregate-runtime';

/** Outcomes decided before the runtime runs (the runtime reports the rest through its hooks). */
export type EdgeOutcome =
  Extract<CommandOutcome, 'invalid' | 'not-found' | 'idempotency-conflict'> | 'replayed';

/** What a transport (HTTP, a queue, a CLI) needs to run commands. */
export interface CommandHandling {
  readonly runtime: Pick<AggregateRuntime, 'execute'>;
  readonly aggregates: AggregateRegistry;
  readonly idempotency: IdempotencyGate;
  /** Where a failure to release a key is reported (pino's signature). */
  readonly log: { warn(context: object, message: string): void };
  /** Counts what is answered before the runtime. */
  readonly recordEdge?: (aggregateType: string, commandType: string, outcome: EdgeOutcome) => void;
}

export interface CommandRequest extends Omit<ExecuteRequest, 'idempotency'> {
  /** The client's key: a repeat of the same command answers the original result. */
  readonly idempotencyKey?: string;
}

export interface HandledCommand {
  readonly result: AppendResult;
  /** The command created the stream - also on a replay of that command. */
  readonly created: boolean;
  /** Answered from the Idempotency-Key record, nothing appended. */
  readonly replayed: boolean;
  readonly consistencyToken: string;
}

/**
 * One command end to end, whatever carried it: cheap checks first (unknown type; with an
 * Idempotency-Key also the command and its payload), then - with a key - a claim on the key
 * (IdempotencyConflictError while another request holds it or when it served another command,
 * the original result when it completed), then the runtime's decide + append, which completes
 * the claim in the append transaction; a failed command releases its claim.
 */
export async function handleCommand(
  handling: CommandHandling,
  request: CommandRequest,
): Promise<HandledCommand> {
  let idempotency: { key: string; fingerprint: string } | undefined;
  let claim: IdempotencyClaim | undefined;
  try {
    const definition = handling.aggregates.get(request.aggregateType);
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
      claim = await handling.idempotency.claimIdempotencyKey(
        idempotency.key,
        idempotency.fingerprint,
      );
    }
  } catch (error) {
    if (error instanceof NotFoundError) record(handling, request, 'not-found');
    else if (error instanceof ValidationError) record(handling, request, 'invalid');
    else if (error instanceof IdempotencyConflictError) {
      record(handling, request, 'idempotency-conflict');
    }
    throw error;
  }
  if (claim?.kind === 'replay') {
    record(handling, request, 'replayed');
    const result = claim.record.result;
    return handled({ result, created: result.events[0]?.version === 1 }, true);
  }
  if (!claim) return handled(await run(handling, request), false);

  const held = claim;
  try {
    return handled(await run(handling, request, idempotency), false);
  } catch (error) {
    // Only a still-pending claim is deleted: when the append did commit, this is a no-op.
    await handling.idempotency
      .releaseIdempotencyKey(held)
      .catch((releaseError: unknown) =>
        handling.log.warn(
          { err: releaseError, idempotencyKey: held.key },
          'could not release the Idempotency-Key; it frees itself when its lease runs out',
        ),
      );
    throw error;
  }
}

function record(handling: CommandHandling, request: CommandRequest, outcome: EdgeOutcome): void {
  handling.recordEdge?.(request.aggregateType, request.command.type, outcome);
}

function run(
  handling: CommandHandling,
  request: CommandRequest,
  idempotency?: { key: string; fingerprint: string },
): Promise<ExecuteResult> {
  return handling.runtime.execute({
    aggregateType: request.aggregateType,
    aggregateId: request.aggregateId,
    command: request.command,
    ...(request.expectedVersion !== undefined ? { expectedVersion: request.expectedVersion } : {}),
    metadata: request.metadata,
    ...(idempotency ? { idempotency } : {}),
  });
}

function handled({ result, created }: ExecuteResult, replayed: boolean): HandledCommand {
  return {
    result,
    created,
    replayed,
    consistencyToken: formatConsistencyToken({
      streamType: result.streamType,
      streamId: result.streamId,
      version: result.version,
    }),
  };
}
