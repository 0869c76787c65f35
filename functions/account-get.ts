import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { getAccount } from '../shared/domain/service.js';
import { accountView } from '../shared/domain/view.js';

/** GET /v1/account */
export const handler = httpHandler(ROUTES.getAccount, async ({ caller }, rt) => {
  return { account: accountView(await getAccount(caller.accountId, rt), rt.clock.now()) };
});
