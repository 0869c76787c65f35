import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { principalOf } from '../../shared/domain/service.js';
import { sendTestEvent } from '../../shared/webhooks/service.js';

/** POST /v1/webhooks/{id}/test — 202: the delivery is queued, follow it in the deliveries list. */
export const handler = httpHandler(ROUTES.testWebhook, async ({ caller, params }, rt) => {
  return sendTestEvent({ ...principalOf(caller), accountId: caller.accountId }, params.id!, rt.webhooks);
});
