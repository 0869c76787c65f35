import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { accountPrincipal } from '../../shared/admin/accounts.js';
import { contactsOf, rotateKey, usageOf } from '../../shared/domain/service.js';
import { keyView } from '../../shared/domain/view.js';

/** POST /admin/v1/accounts/{accountId}/keys/{id}/rotate — the new secret is returned once. */
export const handler = httpHandler(ROUTES.adminRotateKey, async ({ caller, params, body }, rt) => {
  const principal = await accountPrincipal({ id: caller.operatorId }, params.accountId!, rt);
  const { record, secret } = await rotateKey(principal, params.id!, body, rt);
  return { key: keyView(record, rt.clock.now(), await usageOf(record, rt), await contactsOf(record, rt)), secret };
});
