import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { confirmEmail } from '../shared/domain/service.js';

/**
 * GET /v1/email-confirmations/{token} — no authentication: the token (256 bits, single address,
 * 7 days) is the proof that whoever reads that mailbox agrees to receive the notices.
 */
export const handler = httpHandler(ROUTES.confirmEmail, async ({ params }, rt) => confirmEmail(params.id!, rt));
