/** Opaque pagination cursors: base64url JSON `{p: position}`. Bad cursors are a `validation_error` on `cursor`. */
import { ValidationError } from './errors.js';

export function encodeCursor(position: string): string {
  return Buffer.from(JSON.stringify({ p: position })).toString('base64url');
}

/** Decodes a cursor and checks its position against `pattern`; throws a ValidationError naming `cursor`. */
export function decodeCursor(cursor: string, pattern: RegExp = /^[\w#.-]{1,200}$/): string {
  const bad = () => new ValidationError([{ field: 'cursor', message: 'is not a cursor returned by this API' }]);
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const p = (parsed as { p?: unknown } | null)?.p;
  if (typeof p !== 'string' || !pattern.test(p)) throw bad();
  return p;
}
