import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { accountPrincipal } from '../../shared/admin/accounts.js';
import { contactsOf, cancelRotation, usageOf } from '../../shared/domain/service.js';
import { keyView } from '../../shared/domain/view.js';

/** DELETE /admin/v1/accounts/{accountId}/keys/{id}/rotation */
export const handler = httpHandler(ROUTES.adminCancelRotation, async ({ caller, params, body }, rt) => {
  const principal = await accountPrincipal({ id: caller.operatorId }, params.accountId!, rt);
  const { record } = await cancelRotation(principal, params.id!, body, rt);
  return { key: keyView(record, rt.clock.now(), await usageOf(record, rt), await contactsOf(record, rt)) };
});
