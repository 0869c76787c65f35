import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { principalOf } from '../../shared/domain/service.js';
import { listWebhooks } from '../../shared/webhooks/service.js';
import { webhookView } from '../../shared/webhooks/view.js';

/** GET /v1/webhooks — a test key sees only test endpoints. */
export const handler = httpHandler(ROUTES.listWebhooks, async ({ caller }, rt) => {
  const now = rt.clock.now();
  return { webhooks: (await listWebhooks({ ...principalOf(caller), accountId: caller.accountId }, rt.webhooks)).map((w) => webhookView(w, now)) };
});
