import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { accountPrincipal } from '../../shared/admin/accounts.js';
import { contactsOf, listKeys, usageOf } from '../../shared/domain/service.js';
import { keyView } from '../../shared/domain/view.js';

/** GET /admin/v1/accounts/{accountId}/keys — newest first, both environments, revoked included. */
export const handler = httpHandler(ROUTES.adminListKeys, async ({ caller, params, query }, rt) => {
  const principal = await accountPrincipal({ id: caller.operatorId }, params.accountId!, rt);
  const page = await listKeys(principal, { limit: query.limit ?? 20, cursor: query.cursor }, rt);
  const now = rt.clock.now();
  const usages = await Promise.all(page.items.map((r) => usageOf(r, rt)));
  const contacts = await Promise.all(page.items.map((r) => contactsOf(r, rt)));
  return { keys: page.items.map((r, i) => keyView(r, now, usages[i], contacts[i])), nextCursor: page.nextCursor };
});
