import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { contactsOf, listKeys, principalOf, usageOf } from '../shared/domain/service.js';
import { keyView } from '../shared/domain/view.js';

/** GET /v1/keys — newest first, revoked included; a test key sees only test keys. */
export const handler = httpHandler(ROUTES.listKeys, async ({ caller, query }, rt) => {
  const page = await listKeys({ ...principalOf(caller), accountId: caller.accountId }, { limit: query.limit ?? 20, cursor: query.cursor }, rt);
  const now = rt.clock.now();
  // Each key's recorded usage (last use, where from) is read in parallel: a few small queries per key.
  const [usages, contacts] = await Promise.all([Promise.all(page.items.map((r) => usageOf(r, rt))), Promise.all(page.items.map((r) => contactsOf(r, rt)))]);
  return { keys: page.items.map((r, i) => keyView(r, now, usages[i], contacts[i])), nextCursor: page.nextCursor };
});
