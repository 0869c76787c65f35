import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { errorBody } from '../shared/http/errors.js';

/**
 * The API's catch-all (`ANY /{proxy+}`), behind the authorizer: an unauthenticated call to an unknown
 * route is 401 (the authorizer answers first), an authenticated one 404, as SPEC §3's order says.
 */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const requestId = event.requestContext?.requestId ?? 'unknown';
  return {
    statusCode: 404,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId },
    body: JSON.stringify(errorBody('not_found', 'No such route.', requestId)),
  };
};
