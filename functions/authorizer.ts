/**
 * rekey's Lambda authorizer (SPEC §4), for the management API and any API Gateway API that attaches
 * it: REST `TOKEN` / `REQUEST` events get an IAM policy, HTTP API payload 2.0 events a simple response.
 * The logic lives in `shared/auth/`; this file only wires the process-wide dependencies, once, on the
 * first request (the pepper is loaded then, through the pepper interface).
 *
 * It does not go through `shared/runtime.ts`: see `shared/auth/wiring.ts` for why (cold start).
 */
import { createAuthorizerHandler } from '../shared/auth/handler.js';
import { authorizerDepsFromEnv } from '../shared/auth/wiring.js';

export { createAuthorizerHandler } from '../shared/auth/handler.js';
export type { AuthorizerContext, AuthorizerDeps, AuthorizerEvent, AuthorizerHandler, AuthorizerResult } from '../shared/auth/handler.js';

/** The Lambda entry point. */
export const handler = createAuthorizerHandler(() => authorizerDepsFromEnv(process.env));
