/**
 * Local mode's operator access key (SPEC §9): generated once into `<dataDir>/operator.json`
 * (mode 0600) as `{accessKeyId, secretAccessKey, region}`. The local gateway verifies admin
 * requests against it; the CLI, tests and a provider's backend sign with it like with an AWS key.
 */
import type { OperatorKey } from '../adapters/sigv4.js';
import { ensureAccessKey, readAccessKey, type AccessKeyFile } from './accessKeyFile.js';

export const OPERATOR_KEY_FILE = 'operator.json';
/** Region local admin requests are signed for (any value works; this one every AWS tool accepts). */
export const LOCAL_OPERATOR_REGION = 'us-east-1';

// `RKLO`: rekey local operator.
const OPERATOR_KEY: AccessKeyFile = { fileName: OPERATOR_KEY_FILE, what: 'operator key', idPrefix: 'RKLO', region: LOCAL_OPERATOR_REGION };

/** Reads the operator key of `dataDir`, or `null` when it has not been generated yet. */
export const readOperatorKey = (dataDir: string): OperatorKey | null => readAccessKey(dataDir, OPERATOR_KEY);

/** The operator key of `dataDir`, generated on first call (race-free between processes). */
export const ensureOperatorKey = (dataDir: string): OperatorKey => ensureAccessKey(dataDir, OPERATOR_KEY);
