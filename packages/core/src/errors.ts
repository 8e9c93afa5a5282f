/**
 * The error hierarchy every package throws and the HTTP layer maps to status codes in one
 * place. Each error carries a stable `code` and the extra fields a problem+json body shows.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
  /** Extra members for the problem+json body (e.g. `currentVersion`, `state`). */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(message: string, extensions: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.extensions = extensions;
  }
}

export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/** Input that does not have the shape or values required (HTTP 400). */
export class ValidationError extends AppError {
  readonly code = 'validation';
  constructor(
    message: string,
    readonly problems: readonly FieldProblem[] = [],
  ) {
    super(message, problems.length > 0 ? { errors: problems } : {});
  }
}

/** The named thing does not exist (HTTP 404). */
export class NotFoundError extends AppError {
  readonly code = 'not-found';
}

/** Someone else appended first, or the caller's expected version is stale (HTTP 409). */
export class ConcurrencyConflictError extends AppError {
  readonly code = 'concurrency-conflict';
  constructor(
    readonly stream: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(`Stream ${stream} is at version ${currentVersion}, expected ${expectedVersion}`, {
      currentVersion,
      expectedVersion,
    });
  }
}

/**
 * The aggregate refuses the command in its current state or by a business rule (HTTP 422).
 * `details` are extra problem+json members the rule names (e.g. `nights` of room-available).
 */
export class DomainRejectionError extends AppError {
  readonly code = 'rejected';
  constructor(
    readonly reason: string,
    readonly state: unknown,
    readonly rule?: string,
    details: Readonly<Record<string, unknown>> = {},
  ) {
    super(reason, { ...details, state, reason, ...(rule ? { rule } : {}) });
  }
}

/**
 * Another stream holds unique keys an append tried to take (docs/room-calendar.md). Not a
 * concurrency conflict: deciding again cannot help, the aggregate turns it into a rejection.
 */
export class ClaimConflictError extends AppError {
  readonly code = 'claim-conflict';
  constructor(
    readonly stream: string,
    readonly taken: readonly { readonly scope: string; readonly key: string }[],
  ) {
    super(`Stream ${stream} cannot claim ${taken.map((t) => `${t.scope}:${t.key}`).join(', ')}`);
  }
}

/**
 * `Idempotency-Key` misuse: `in-flight` (the same key is being processed, HTTP 409) or
 * `mismatch` (the key was used for a different command, HTTP 422).
 */
export class IdempotencyConflictError extends AppError {
  readonly code = 'idempotency-conflict';
  constructor(
    readonly kind: 'in-flight' | 'mismatch',
    readonly key: string,
  ) {
    super(
      kind === 'in-flight'
        ? `A request with Idempotency-Key "${key}" is still being processed`
        : `Idempotency-Key "${key}" was already used for a different command`,
      { idempotencyKey: key },
    );
  }
}

/** A dependency (database, broker, search) did not answer or refused (HTTP 503). */
export class DependencyUnavailableError extends AppError {
  readonly code = 'dependency-unavailable';
  constructor(
    readonly dependency: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, { dependency }, options);
  }
}

/** Missing or wrong credentials (HTTP 401). */
export class UnauthorizedError extends AppError {
  readonly code = 'unauthorized';
}

/** Credentials are fine but the action is not allowed here (HTTP 403). */
export class ForbiddenError extends AppError {
  readonly code = 'forbidden';
}

/** A waited-for condition did not happen in time (HTTP 504). */
export class TimeoutError extends AppError {
  readonly code = 'timeout';
}

/** Invalid configuration: lists every bad or missing variable at once. */
export class ConfigError extends AppError {
  readonly code = 'config';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
