import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { setAccountStatus } from '../../shared/admin/accounts.js';
import { accountView } from '../../shared/domain/view.js';

/** POST /admin/v1/accounts/{accountId}/resume — idempotent. */
export const handler = httpHandler(ROUTES.adminResumeAccount, async ({ caller, params }, rt) => {
  return { account: accountView(await setAccountStatus({ id: caller.operatorId }, params.accountId!, 'active', rt), rt.clock.now()) };
});
