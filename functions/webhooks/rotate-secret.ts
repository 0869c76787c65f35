import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { principalOf } from '../../shared/domain/service.js';
import { rotateSigningSecret } from '../../shared/webhooks/service.js';
import { webhookView } from '../../shared/webhooks/view.js';

/** POST /v1/webhooks/{id}/rotate-secret — the new signing secret is in this response only. */
export const handler = httpHandler(ROUTES.rotateWebhookSecret, async ({ caller, params, body }, rt) => {
  const { record, signingSecret } = await rotateSigningSecret({ ...principalOf(caller), accountId: caller.accountId }, params.id!, body, rt.webhooks);
  return { webhook: webhookView(record, rt.clock.now()), signingSecret };
});
