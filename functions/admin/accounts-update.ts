import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { updateAccount } from '../../shared/admin/accounts.js';
import { accountView } from '../../shared/domain/view.js';

/** PATCH /admin/v1/accounts/{accountId} */
export const handler = httpHandler(ROUTES.adminUpdateAccount, async ({ caller, params, body }, rt) => {
  return { account: accountView(await updateAccount({ id: caller.operatorId }, params.accountId!, body, rt), rt.clock.now()) };
});
