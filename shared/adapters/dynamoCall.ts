/**
 * Plumbing every DynamoDB adapter shares: how a conditional write's refusal is recognised, how a
 * lazily built client is resolved, and how any other SDK failure becomes `StoreUnavailableError`
 * (so handlers answer 503 `store_unavailable` rather than leak an SDK error).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../domain/errors.js';

/** A document client, or a function building it on first use (functions that never touch a store never build it). */
export type DocumentClientSource = DynamoDBDocumentClient | (() => DynamoDBDocumentClient);

/** The client of `source`: itself, or what its builder returns. */
export function resolveClient(source: DocumentClientSource): DynamoDBDocumentClient {
  return typeof source === 'function' ? source() : source;
}

/** Whether `err` is DynamoDB refusing a write because its condition did not hold. */
export function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/**
 * Runs one DynamoDB request. A condition failure is rethrown as is (the caller decides what it
 * means: a version conflict, an idempotent repeat); any other failure becomes `StoreUnavailableError`.
 */
export async function dynamoCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isConditionFailure(err)) throw err;
    throw new StoreUnavailableError(`DynamoDB request failed: ${(err as Error)?.name ?? 'Error'}`, { cause: err });
  }
}
