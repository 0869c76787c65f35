import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { contactsOf, principalOf, rotateKey, usageOf } from '../shared/domain/service.js';
import { keyView } from '../shared/domain/view.js';

/** POST /v1/keys/{id}/rotate — the new secret is in this response and nowhere else. */
export const handler = httpHandler(ROUTES.rotateKey, async ({ caller, params, body }, rt) => {
  const { record, secret } = await rotateKey(principalOf(caller), params.id!, body, rt);
  return { key: keyView(record, rt.clock.now(), await usageOf(record, rt), await contactsOf(record, rt)), secret };
});
