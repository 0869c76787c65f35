import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { contactsOf, principalOf, revokeKey, usageOf } from '../shared/domain/service.js';
import { keyView } from '../shared/domain/view.js';

/** POST /v1/keys/{id}/revoke — idempotent. */
export const handler = httpHandler(ROUTES.revokeKey, async ({ caller, params }, rt) => {
  const { record } = await revokeKey(principalOf(caller), params.id!, rt);
  return { key: keyView(record, rt.clock.now(), await usageOf(record, rt), await contactsOf(record, rt)) };
});
