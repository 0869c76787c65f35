import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { listKeys, principalOf } from '../shared/domain/service.js';
import { keyView } from '../shared/domain/view.js';

/** GET /v1/keys — newest first, revoked included; a test key sees only test keys. */
export const handler = httpHandler(ROUTES.listKeys, async ({ caller, query }, rt) => {
  const page = await listKeys({ ...principalOf(caller), accountId: caller.accountId }, { limit: query.limit ?? 20, cursor: query.cursor }, rt);
  const now = rt.clock.now();
  return { keys: page.items.map((r) => keyView(r, now)), nextCursor: page.nextCursor };
});
