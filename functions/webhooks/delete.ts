import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { principalOf } from '../../shared/domain/service.js';
import { deleteWebhook } from '../../shared/webhooks/service.js';
import { webhookView } from '../../shared/webhooks/view.js';

/** DELETE /v1/webhooks/{id} — answers the endpoint as it was. */
export const handler = httpHandler(ROUTES.deleteWebhook, async ({ caller, params }, rt) => {
  const record = await deleteWebhook({ ...principalOf(caller), accountId: caller.accountId }, params.id!, rt.webhooks);
  return { webhook: webhookView(record, rt.clock.now()) };
});
