import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { principalOf } from '../../shared/domain/service.js';
import { createWebhook } from '../../shared/webhooks/service.js';
import { webhookView } from '../../shared/webhooks/view.js';

/** POST /v1/webhooks — the signing secret is in this response and nowhere else. */
export const handler = httpHandler(ROUTES.createWebhook, async ({ caller, body }, rt) => {
  const { record, signingSecret } = await createWebhook({ ...principalOf(caller), accountId: caller.accountId }, body, rt.webhooks);
  return { webhook: webhookView(record, rt.clock.now()), signingSecret };
});
