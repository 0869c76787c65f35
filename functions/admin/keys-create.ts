import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { accountPrincipal } from '../../shared/admin/accounts.js';
import { createKey } from '../../shared/domain/service.js';
import { keyView } from '../../shared/domain/view.js';

/** POST /admin/v1/accounts/{accountId}/keys — environment defaults to `live`; the secret is returned once. */
export const handler = httpHandler(ROUTES.adminCreateKey, async ({ caller, params, body }, rt) => {
  const principal = await accountPrincipal({ id: caller.operatorId }, params.accountId!, rt);
  const { record, secret, contacts } = await createKey(principal, principal.accountId, body, rt);
  return { key: keyView(record, rt.clock.now(), undefined, contacts), secret };
});
