import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { principalOf, setAlertEmails } from '../shared/domain/service.js';
import { accountView } from '../shared/domain/view.js';

/** PUT /v1/account/alert-emails — replaces the list (duplicates removed, case-insensitively). */
export const handler = httpHandler(ROUTES.putAlertEmails, async ({ caller, body }, rt) => {
  return { account: accountView(await setAlertEmails(principalOf(caller), caller.accountId, body.alertEmails, rt), rt.clock.now()) };
});
