import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { contactsOf, cancelRotation, principalOf, usageOf } from '../shared/domain/service.js';
import { keyView } from '../shared/domain/view.js';

/** DELETE /v1/keys/{id}/rotation — cancel, or restore the old secret within the restore window. */
export const handler = httpHandler(ROUTES.cancelRotation, async ({ caller, params, body }, rt) => {
  const { record } = await cancelRotation(principalOf(caller), params.id!, body, rt);
  return { key: keyView(record, rt.clock.now(), await usageOf(record, rt), await contactsOf(record, rt)) };
});
