import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { principalOf } from '../../shared/domain/service.js';
import { getWebhook } from '../../shared/webhooks/service.js';
import { webhookView } from '../../shared/webhooks/view.js';

/** GET /v1/webhooks/{id} */
export const handler = httpHandler(ROUTES.getWebhook, async ({ caller, params }, rt) => {
  return { webhook: webhookView(await getWebhook({ ...principalOf(caller), accountId: caller.accountId }, params.id!, rt.webhooks), rt.clock.now()) };
});
