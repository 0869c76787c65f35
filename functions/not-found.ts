import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { loadConfig, type Config } from '../shared/config.js';
import { corsHeaders } from '../shared/http/cors.js';
import { errorBody } from '../shared/http/errors.js';

/**
 * Builds the API's catch-all (`ANY /{proxy+}`), behind the authorizer: an unauthenticated call to an
 * unknown route is 401 (the authorizer answers first), an authenticated one 404, as SPEC §3's order
 * says. With an allowed origin configured the 404 carries the same CORS headers as every route, so
 * the dashboard (another origin) can read its body.
 */
export function notFoundHandler(config: Pick<Config, 'corsAllowedOrigin'>) {
  const cors = corsHeaders(config.corsAllowedOrigin);
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId ?? 'unknown';
    return {
      statusCode: 404,
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId, ...cors },
      body: JSON.stringify(errorBody('not_found', 'No such route.', requestId)),
    };
  };
}

// Parsed once per cold start: only configuration, none of the runtime's AWS clients.
export const handler = notFoundHandler(loadConfig(process.env));
