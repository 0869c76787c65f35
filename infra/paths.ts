/** Filesystem locations the infrastructure code needs, resolved from this file, not the cwd. */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root (the folder holding package.json and package-lock.json). */
export const REPO_ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Where `npm run dashboard:build` writes the dashboard. */
export const DEFAULT_DASHBOARD_DIR = path.join(REPO_ROOT, 'dashboard', 'dist');
