import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { contactsOf, changeRotationWindow, principalOf, usageOf } from '../shared/domain/service.js';
import { keyView } from '../shared/domain/view.js';

/** PATCH /v1/keys/{id}/rotation — extend, shorten or end the previous secret's life. */
export const handler = httpHandler(ROUTES.updateRotation, async ({ caller, params, body }, rt) => {
  const { record } = await changeRotationWindow(principalOf(caller), params.id!, body, rt);
  return { key: keyView(record, rt.clock.now(), await usageOf(record, rt), await contactsOf(record, rt)) };
});
