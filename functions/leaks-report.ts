import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { TooManyRequestsError } from '../shared/domain/errors.js';
import { allowLeakReport, retryAfterSeconds } from '../shared/leaks/rateLimit.js';
import { reportLeaks } from '../shared/leaks/service.js';

/** POST /v1/leaks — anyone who finds a rekey secret reports it; no API key, limited per source address. */
export const handler = httpHandler(ROUTES.reportLeaks, async ({ body, sourceIp }, rt) => {
  if (!(await allowLeakReport(sourceIp, rt.config.leakReportsPerMinute, rt))) {
    throw new TooManyRequestsError(
      `At most ${rt.config.leakReportsPerMinute} leak reports per minute from one address; try again shortly.`,
      retryAfterSeconds(rt.clock.now()),
    );
  }
  const results = await reportLeaks(body.secrets.map((token) => ({ token, url: null })), 'leak_report', rt);
  return { results };
});
