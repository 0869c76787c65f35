import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { createAccount } from '../../shared/admin/accounts.js';
import { accountView, keyView } from '../../shared/domain/view.js';

/** POST /admin/v1/accounts — with `firstKey`, the key's secret is in this response and nowhere else. */
export const handler = httpHandler(ROUTES.adminCreateAccount, async ({ caller, body }, rt) => {
  const { account, key, secret } = await createAccount({ id: caller.operatorId }, body, rt);
  return { account: accountView(account, rt.clock.now()), ...(key ? { key: keyView(key, rt.clock.now()), secret } : {}) };
});
