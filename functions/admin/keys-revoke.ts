import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { accountPrincipal } from '../../shared/admin/accounts.js';
import { contactsOf, revokeKey, usageOf } from '../../shared/domain/service.js';
import { keyView } from '../../shared/domain/view.js';

/** POST /admin/v1/accounts/{accountId}/keys/{id}/revoke — idempotent. */
export const handler = httpHandler(ROUTES.adminRevokeKey, async ({ caller, params }, rt) => {
  const principal = await accountPrincipal({ id: caller.operatorId }, params.accountId!, rt);
  const { record } = await revokeKey(principal, params.id!, rt);
  return { key: keyView(record, rt.clock.now(), await usageOf(record, rt), await contactsOf(record, rt)) };
});
