/** The one table from error code to HTTP status, and the error body every response uses. */
import type { ErrorCode, ValidationIssue } from '../domain/errors.js';

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  validation_error: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  rotation_in_progress: 409,
  no_rotation_in_progress: 409,
  nothing_to_cancel: 409,
  key_revoked: 409,
  key_expired: 409,
  key_not_revoked: 409,
  reactivation_window_passed: 409,
  limit_reached: 409,
  key_exposed: 409,
  payload_too_large: 413,
  too_many_requests: 429,
  internal_error: 500,
};

export function errorBody(code: ErrorCode, message: string, requestId: string, details?: readonly ValidationIssue[]) {
  return { error: { code, message, requestId, ...(details && details.length ? { details: [...details] } : {}) } };
}
