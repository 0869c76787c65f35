import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { keyUsageReport, principalOf } from '../shared/domain/service.js';

/** GET /v1/keys/{id}/usage — verified requests per secret per minute (SPEC §12). */
export const handler = httpHandler(ROUTES.getKeyUsage, async ({ caller, params, query }, rt) =>
  keyUsageReport(principalOf(caller), params.id!, query, rt),
);
