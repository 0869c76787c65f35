/**
 * A standalone script with the client and the fallback helper: which key and which of its secrets
 * this machine is using. Run it from anywhere with tsx:
 *
 *     REKEY_URL=http://127.0.0.1:3000 REKEY_API_KEY=… [REKEY_API_KEY_OLD=…] npx tsx client/examples/whoami.mts
 *
 * It is an `.mts` file on purpose: it uses top-level `await`, which only ES modules allow. tsx
 * compiles a `.ts` file outside a package whose package.json says `"type": "module"` as CommonJS and
 * stops with "Top-level await is currently not supported with the cjs output format"; `.mts` is an
 * ES module wherever it lives (docs/integrating.md).
 */
import { FallbackClient, fromEnv } from '../index.js';

const baseUrl = process.env.REKEY_URL ?? process.env.REKEY_API_URL;
if (!baseUrl) {
  console.error('Set REKEY_URL to the API (for example http://127.0.0.1:3000) and REKEY_API_KEY to a secret.');
  process.exit(2);
}

const rekey = new FallbackClient({
  baseUrl,
  keys: fromEnv(),
  // Fires when REKEY_API_KEY was refused and REKEY_API_KEY_OLD worked: time to deploy the new secret.
  onOldKeyUsed: () => console.error('warning: REKEY_API_KEY was refused; the old secret answered'),
});
const { result, used } = await rekey.call((c) => c.whoami());
console.log(JSON.stringify({ used, keyId: result.keyId, slot: result.slot, environment: result.environment }));
