import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { getAccount } from '../../shared/domain/service.js';
import { accountView } from '../../shared/domain/view.js';

/** GET /admin/v1/accounts/{accountId}/account — SPEC §3's `GET /v1/account`, for that account. */
export const handler = httpHandler(ROUTES.adminGetCustomerAccount, async ({ params }, rt) => {
  return { account: accountView(await getAccount(params.accountId!, rt), rt.clock.now()) };
});
