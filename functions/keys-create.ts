import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { createKey, principalOf } from '../shared/domain/service.js';
import { keyView } from '../shared/domain/view.js';

/** POST /v1/keys — the secret is in this response and nowhere else. */
export const handler = httpHandler(ROUTES.createKey, async ({ caller, body }, rt) => {
  const { record, secret, contacts } = await createKey(principalOf(caller), caller.accountId, body, rt);
  return { key: keyView(record, rt.clock.now(), undefined, contacts), secret };
});
