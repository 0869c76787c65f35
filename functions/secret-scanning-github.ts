import { httpHandler, parseJsonBody } from '../shared/http/handler.js';
import { ROUTES } from '../shared/http/routes.js';
import { GithubSecretScanningBody } from '../shared/http/schemas.js';
import { ApiError } from '../shared/domain/errors.js';
import { KEY_ID_HEADER, SIGNATURE_HEADER, verifyGithubSignature } from '../shared/leaks/githubKeys.js';
import { reportLeaks, tokenHash } from '../shared/leaks/service.js';

const unauthorized = () => new ApiError('unauthorized', 'A valid GitHub secret scanning signature is required.');

/**
 * POST /v1/secret-scanning/github — GitHub's secret scanning partner endpoint. The signature over
 * the raw body is checked before anything is parsed; the answer is GitHub's feedback array.
 */
export const handler = httpHandler(ROUTES.githubSecretScanning, async ({ headers, rawBody }, rt) => {
  const keyId = headers[KEY_ID_HEADER];
  const signature = headers[SIGNATURE_HEADER];
  if (!keyId || !signature) throw unauthorized();
  const key = await rt.secretScanningKeys.get(keyId);
  if (!key || !verifyGithubSignature(rawBody, signature, key)) throw unauthorized();
  const batch = parseJsonBody(GithubSecretScanningBody, rawBody);
  const results = await reportLeaks(
    batch.map((t) => ({ token: t.token, url: t.url ?? null })),
    'github_secret_scanning',
    rt,
  );
  return batch.map((t, i) => ({
    token_hash: tokenHash(t.token),
    token_type: t.type,
    label: results[i]!.outcome === 'unknown' ? 'false_positive' : 'true_positive',
  }));
});
