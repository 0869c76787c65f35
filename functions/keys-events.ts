import { httpHandler } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { listKeyEvents, principalOf } from '../shared/domain/service.js';
import { decodeCursor } from '../shared/domain/cursor.js';
import { eventView } from '../shared/domain/view.js';

/** GET /v1/keys/{id}/events — the audit trail, newest first. */
export const handler = httpHandler(ROUTES.listKeyEvents, async ({ caller, params, query }, rt) => {
  if (query.cursor !== undefined) decodeCursor(query.cursor); // a bad cursor is a 400, which precedes the key's 404
  const page = await listKeyEvents(principalOf(caller), params.id!, { limit: query.limit ?? 20, cursor: query.cursor }, rt);
  return { events: page.items.map(eventView), nextCursor: page.nextCursor };
});
