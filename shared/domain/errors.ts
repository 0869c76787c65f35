/**
 * One error hierarchy; every error carries a literal `code`. `shared/http/errors.ts` maps each code
 * to its HTTP status in one table.
 */
export type ConflictCode =
  | 'rotation_in_progress'
  | 'no_rotation_in_progress'
  | 'nothing_to_cancel'
  | 'key_revoked'
  | 'key_expired'
  | 'key_not_revoked'
  | 'reactivation_window_passed'
  | 'limit_reached'
  | 'key_exposed';

export type ErrorCode =
  | 'validation_error'
  | 'invalid_json'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'payload_too_large'
  | 'too_many_requests'
  | 'internal_error'
  | ConflictCode;

export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `scopes.2` or `oldKeyExpiresInSeconds`. */
  readonly field: string;
  readonly message: string;
}

/** An error a client caused or may see. Its message is safe to return. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: readonly ValidationIssue[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class ValidationError extends ApiError {
  constructor(details: readonly ValidationIssue[]) {
    const first = details[0];
    super('validation_error', first ? `Invalid request: ${first.field}: ${first.message}` : 'Invalid request', details);
    this.name = 'ValidationError';
  }
}

export class ConflictError extends ApiError {
  constructor(code: ConflictCode, message: string) {
    super(code, message);
    this.name = 'ConflictError';
  }
}

/** A rate limit was reached (429); `retry-after` tells the client when to come back. */
export class TooManyRequestsError extends ApiError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('too_many_requests', message);
    this.name = 'TooManyRequestsError';
  }
}

/** The conditional write lost a race: re-read and decide again. Never reaches a client. */
export class VersionConflictError extends Error {
  constructor(readonly itemId: string) {
    super(`version conflict on ${itemId}`);
    this.name = 'VersionConflictError';
  }
}

/** The store could not be reached or answered with an error. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export const CONFLICT_MESSAGES: Record<ConflictCode, string> = {
  rotation_in_progress: 'A rotation is already in progress for this key: its previous secret is still valid. Change or cancel that rotation first.',
  no_rotation_in_progress: 'This key has no previous secret that is still valid.',
  nothing_to_cancel: 'There is no rotation to cancel or restore for this key.',
  key_revoked: 'This key is revoked.',
  key_expired: 'This key has expired.',
  key_not_revoked: 'This key is not revoked.',
  reactivation_window_passed: 'The window to reactivate this key has passed.',
  limit_reached: 'A limit of this account has been reached.',
  key_exposed: 'This key was revoked because its secret was reported leaked; it cannot be reactivated. Create a new key.',
};
