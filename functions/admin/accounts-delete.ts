import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { deleteAccount } from '../../shared/admin/accounts.js';
import { accountView } from '../../shared/domain/view.js';

/** DELETE /admin/v1/accounts/{accountId} — every key revoked; the account answers 404 from now on. */
export const handler = httpHandler(ROUTES.adminDeleteAccount, async ({ caller, params }, rt) => {
  return { account: accountView(await deleteAccount({ id: caller.operatorId }, params.accountId!, rt), rt.clock.now()) };
});
