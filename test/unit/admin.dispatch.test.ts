import { describe, expect, it } from 'vitest';
import { ADMIN_HANDLERS, handler } from '../../functions/admin/index.js';
import { ROUTE_LIST } from '../../shared/http/routes.js';

describe('the shared admin function (AWS)', () => {
  it('has the handler of every admin route, loaded from that route\'s own file', async () => {
    const admin = ROUTE_LIST.filter((r) => r.scope === 'operator');
    expect(Object.keys(ADMIN_HANDLERS).sort()).toEqual(admin.map((r) => r.operationId).sort());
    for (const r of admin) {
      const mod = (await import(`../../${r.entry}`)) as { handler: unknown };
      expect(ADMIN_HANDLERS[r.operationId], r.operationId).toBe(mod.handler);
    }
  });

  it('answers 401 in the error shape for a request without an IAM principal, and 404 for an unknown resource', async () => {
    const base = { httpMethod: 'GET', headers: {}, body: null, isBase64Encoded: false, pathParameters: null, queryStringParameters: null, multiValueQueryStringParameters: null };
    const unsigned = await handler({ ...base, resource: '/admin/v1/accounts', path: '/admin/v1/accounts', requestContext: { requestId: 'r1', identity: { userArn: null } } } as never, {} as never);
    expect(unsigned.statusCode).toBe(401);
    expect(JSON.parse(unsigned.body).error.code).toBe('unauthorized');
    const unknown = await handler({ ...base, resource: '/admin/{proxy+}', path: '/admin/x', requestContext: { requestId: 'r2', identity: { userArn: 'arn:aws:iam::1:user/o' } } } as never, {} as never);
    expect(unknown.statusCode).toBe(404);
  });
});
