import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { accountPrincipal } from '../../shared/admin/accounts.js';
import { contactsOf, getKey, usageOf } from '../../shared/domain/service.js';
import { keyView } from '../../shared/domain/view.js';

/** GET /admin/v1/accounts/{accountId}/keys/{id} — another account's key is 404. */
export const handler = httpHandler(ROUTES.adminGetKey, async ({ caller, params }, rt) => {
  const principal = await accountPrincipal({ id: caller.operatorId }, params.accountId!, rt);
  const record = await getKey(principal, params.id!, rt);
  return { key: keyView(record, rt.clock.now(), await usageOf(record, rt), await contactsOf(record, rt)) };
});
