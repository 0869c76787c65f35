import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { isoOrNull } from '../shared/domain/view.js';

/** GET /v1/whoami — which key, and which of its secrets, authenticated this call. No read needed. */
export const handler = httpHandler(ROUTES.whoami, async ({ caller }, _rt) => {
  return {
    keyId: caller.keyId,
    accountId: caller.accountId,
    environment: caller.environment,
    scopes: [...caller.scopes],
    slot: caller.slot,
    secretExpiresAt: isoOrNull(caller.secretExpiresAt),
  };
});
