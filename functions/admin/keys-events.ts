import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { accountPrincipal } from '../../shared/admin/accounts.js';
import { listKeyEvents } from '../../shared/domain/service.js';
import { eventView } from '../../shared/domain/view.js';

/** GET /admin/v1/accounts/{accountId}/keys/{id}/events — newest first. */
export const handler = httpHandler(ROUTES.adminListKeyEvents, async ({ caller, params, query }, rt) => {
  const principal = await accountPrincipal({ id: caller.operatorId }, params.accountId!, rt);
  const page = await listKeyEvents(principal, params.id!, { limit: query.limit ?? 20, cursor: query.cursor }, rt);
  return { events: page.items.map(eventView), nextCursor: page.nextCursor };
});
