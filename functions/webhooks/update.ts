import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { principalOf } from '../../shared/domain/service.js';
import { updateWebhook } from '../../shared/webhooks/service.js';
import { webhookView } from '../../shared/webhooks/view.js';

/** PATCH /v1/webhooks/{id} */
export const handler = httpHandler(ROUTES.updateWebhook, async ({ caller, params, body }, rt) => {
  const record = await updateWebhook({ ...principalOf(caller), accountId: caller.accountId }, params.id!, body, rt.webhooks);
  return { webhook: webhookView(record, rt.clock.now()) };
});
