import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { principalOf, updateKey, usageOf } from '../shared/domain/service.js';
import { keyView } from '../shared/domain/view.js';

/** PATCH /v1/keys/{id} — name, scopes, expiry, contacts. */
export const handler = httpHandler(ROUTES.updateKey, async ({ caller, params, body }, rt) => {
  const { record, contacts } = await updateKey(principalOf(caller), params.id!, body, rt);
  return { key: keyView(record, rt.clock.now(), await usageOf(record, rt), contacts) };
});
