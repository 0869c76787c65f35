import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { principalOf } from '../../shared/domain/service.js';
import { listDeliveries } from '../../shared/webhooks/service.js';
import { deliveryView } from '../../shared/webhooks/view.js';

/** GET /v1/webhooks/{id}/deliveries */
export const handler = httpHandler(ROUTES.listWebhookDeliveries, async ({ caller, params, query }, rt) => {
  const page = await listDeliveries({ ...principalOf(caller), accountId: caller.accountId }, params.id!, { limit: query.limit ?? 20, cursor: query.cursor }, rt.webhooks);
  return { deliveries: page.items.map(deliveryView), nextCursor: page.nextCursor };
});
