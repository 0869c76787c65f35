import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { accountPrincipal } from '../../shared/admin/accounts.js';
import { updateKey, usageOf } from '../../shared/domain/service.js';
import { keyView } from '../../shared/domain/view.js';

/** PATCH /admin/v1/accounts/{accountId}/keys/{id} — the operator is not bound by delegation. */
export const handler = httpHandler(ROUTES.adminUpdateKey, async ({ caller, params, body }, rt) => {
  const principal = await accountPrincipal({ id: caller.operatorId }, params.accountId!, rt);
  const { record, contacts } = await updateKey(principal, params.id!, body, rt);
  return { key: keyView(record, rt.clock.now(), await usageOf(record, rt), contacts) };
});
