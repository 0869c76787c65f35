import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '../../shared/http/handler.js';
import { CreateKeyBody, RotateBody } from '../../shared/http/schemas.js';
import { ValidationError } from '../../shared/domain/errors.js';

/** The `details` a body gets, or [] when it is valid. */
function detailsOf(schema: Parameters<typeof parseJsonBody>[0], body: unknown): unknown {
  try {
    parseJsonBody(schema, Buffer.from(JSON.stringify(body)));
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).details;
  }
}

describe('validation messages name the field and say what is wrong with it', () => {
  it.each([
    [{ oldKeyExpiresInSeconds: 1.5 }, 'must be an integer'],
    [{ oldKeyExpiresInSeconds: '60' }, 'must be a number'],
    [{ oldKeyExpiresInSeconds: null }, 'must not be null'],
  ])('rotate %j → %s', (body, message) => {
    expect(detailsOf(RotateBody, body)).toEqual([{ field: 'oldKeyExpiresInSeconds', message }]);
  });

  it('tells a missing name from a null one and from a number', () => {
    expect(detailsOf(CreateKeyBody, {})).toEqual([{ field: 'name', message: 'is required' }]);
    expect(detailsOf(CreateKeyBody, { name: null })).toEqual([{ field: 'name', message: 'must not be null' }]);
    expect(detailsOf(CreateKeyBody, { name: 7 })).toEqual([{ field: 'name', message: 'must be a string' }]);
  });
});
