import { httpHandler } from '../../shared/http/handler.js';
import { ROUTES } from '../../shared/http/routes.js';
import { updateAccount } from '../../shared/admin/accounts.js';
import { accountView } from '../../shared/domain/view.js';

/** PUT /admin/v1/accounts/{accountId}/account/alert-emails — operator-set addresses are trusted as given. */
export const handler = httpHandler(ROUTES.adminPutAlertEmails, async ({ caller, params, body }, rt) => {
  return { account: accountView(await updateAccount({ id: caller.operatorId }, params.accountId!, { alertEmails: body.alertEmails }, rt), rt.clock.now()) };
});
