/** Filesystem locations the infrastructure code needs, resolved from this file, not the cwd. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * True when this code runs from the npm package's compiled bundle (`dist/infra/index.js`), false
 * when it runs from the TypeScript sources of the repository (tsx, vitest, `cdk synth` here).
 * The package ships prebuilt function bundles and a prebuilt dashboard; the sources build them.
 */
export const RUNNING_FROM_PACKAGE = !fileURLToPath(import.meta.url).endsWith('.ts');

/** The package root: the nearest folder above this file holding a package.json (repo or installed package). */
export const REPO_ROOT = findPackageRoot(HERE);

/** Where `npm pack` (the `prepack` script) writes everything the package ships that is built. */
export const PACKAGE_DIST_DIR = path.join(REPO_ROOT, 'dist');

/** Where prebuilt function bundles live in the package: one folder per entry (`prebuiltBundleDir`). */
export const PREBUILT_FUNCTIONS_DIR = path.join(PACKAGE_DIST_DIR, 'functions');

/**
 * The dashboard build: `dashboard/dist` (from `npm run dashboard:build`) in the repository,
 * `dist/dashboard` (built at `prepack`) in the package.
 */
export const DEFAULT_DASHBOARD_DIR = RUNNING_FROM_PACKAGE ? path.join(PACKAGE_DIST_DIR, 'dashboard') : path.join(REPO_ROOT, 'dashboard', 'dist');

/**
 * The folder holding the prebuilt bundle of a function entry: `functions/webhooks/delivery.ts` →
 * `dist/functions/webhooks/delivery/` (with `index.mjs` and `index.mjs.map`, as NodejsFunction lays
 * them out).
 */
export function prebuiltBundleDir(entry: string): string {
  const rel = entry.replace(/^functions\//, '').replace(/\.ts$/, '');
  return path.join(PREBUILT_FUNCTIONS_DIR, rel);
}

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`rekey: no package.json above ${start}`);
  }
}
