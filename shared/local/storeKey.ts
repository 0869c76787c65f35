/**
 * The local store's credential (SPEC §6): an access key generated once into `<dataDir>/store.json`
 * (mode 0600) as `{accessKeyId, secretAccessKey, region}`. rekey's own processes (`npm start`, the
 * CLI) put it in the AWS SDK's environment, so every DynamoDB client they build signs its requests
 * with it; the store's guard (`dynalite.ts`) verifies those signatures and refuses everything else.
 * A web page cannot read the file, and the data directory is 0700, so no other local user can either.
 */
import type { OperatorKey } from '../adapters/sigv4.js';
import { ensureAccessKey, readAccessKey, type AccessKeyFile } from './accessKeyFile.js';

/** The store's access key: the same shape as an AWS access key, good for the SDK's signer. */
export type StoreKey = OperatorKey;

export const STORE_KEY_FILE = 'store.json';
/** The region local DynamoDB clients sign for. */
export const LOCAL_STORE_REGION = 'us-east-1';

// `RKLS`: rekey local store.
const STORE_KEY: AccessKeyFile = { fileName: STORE_KEY_FILE, what: 'store key', idPrefix: 'RKLS', region: LOCAL_STORE_REGION };

/** Reads the store key of `dataDir`, or `null` when none was generated yet. */
export const readStoreKey = (dataDir: string): StoreKey | null => readAccessKey(dataDir, STORE_KEY);

/** The store key of `dataDir`, generated on first call (race-free between processes). */
export const ensureStoreKey = (dataDir: string): StoreKey => ensureAccessKey(dataDir, STORE_KEY);
