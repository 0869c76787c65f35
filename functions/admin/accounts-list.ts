import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { listAccounts } from '../../shared/admin/accounts.js';
import { accountView } from '../../shared/domain/view.js';

/** GET /admin/v1/accounts — newest first. */
export const handler = httpHandler(ROUTES.adminListAccounts, async ({ query }, rt) => {
  const page = await listAccounts({ limit: query.limit ?? 20, cursor: query.cursor }, rt);
  return { accounts: page.items.map((a) => accountView(a, rt.clock.now())), nextCursor: page.nextCursor };
});
