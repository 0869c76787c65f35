import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { notFoundHandler } from '../../functions/not-found.js';

const event = (requestId: string) => ({ requestContext: { requestId } }) as unknown as APIGatewayProxyEvent;

describe('not-found function', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('answers 404 not_found in the API error shape with the request id', async () => {
    const res = await notFoundHandler({ corsAllowedOrigin: undefined })(event('req-1'));
    expect(res.statusCode).toBe(404);
    expect(res.headers).toEqual({ 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'req-1' });
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'not_found', message: 'No such route.', requestId: 'req-1' } });
  });

  it('lets the allowed origin read the 404 (allow-origin and vary: Origin) when one is configured', async () => {
    const res = await notFoundHandler({ corsAllowedOrigin: 'https://d111.cloudfront.net' })(event('req-2'));
    expect(res.headers).toMatchObject({ 'access-control-allow-origin': 'https://d111.cloudfront.net', vary: 'Origin' });
  });

  it('the deployed handler takes the origin from CORS_ALLOWED_ORIGIN, read once when the module loads', async () => {
    vi.stubEnv('CORS_ALLOWED_ORIGIN', 'https://dash.example.org');
    const { handler } = await import('../../functions/not-found.js');
    vi.stubEnv('CORS_ALLOWED_ORIGIN', 'https://changed.example.org');
    const res = await handler(event('req-3'));
    expect(res.headers?.['access-control-allow-origin']).toBe('https://dash.example.org');
    expect(res.headers?.vary).toBe('Origin');
  });

  it('the deployed handler sends no CORS header when CORS_ALLOWED_ORIGIN is unset', async () => {
    vi.stubEnv('CORS_ALLOWED_ORIGIN', undefined);
    const { handler } = await import('../../functions/not-found.js');
    const res = await handler(event('req-4'));
    expect(res.headers).not.toHaveProperty('access-control-allow-origin');
    expect(res.headers).not.toHaveProperty('vary');
  });
});
