import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { contactsOf, getKey, principalOf, usageOf } from '../shared/domain/service.js';
import { keyView } from '../shared/domain/view.js';

/** GET /v1/keys/{id} */
export const handler = httpHandler(ROUTES.getKey, async ({ caller, params }, rt) => {
  const record = await getKey(principalOf(caller), params.id!, rt);
  return { key: keyView(record, rt.clock.now(), await usageOf(record, rt), await contactsOf(record, rt)) };
});
