/**
 * `npm run openapi`: writes `openapi.json` at the repository root from the route table and schemas,
 * with the default policies and no server URL (the deployed API serves its own, with its limits).
 * `npm test` fails while the committed file differs from a fresh build.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOpenApi, serializeOpenApi } from '../shared/http/openapi.js';

const OPENAPI_PATH = fileURLToPath(new URL('../openapi.json', import.meta.url));

const text = serializeOpenApi(buildOpenApi());
writeFileSync(OPENAPI_PATH, text);
console.log(`wrote ${OPENAPI_PATH} (${text.length} bytes)`);
