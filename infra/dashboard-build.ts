import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_DASHBOARD_DIR, REPO_ROOT } from './paths.js';

/**
 * Makes sure the standalone app ships the real dashboard: when `dashboard/dist/index.html` is
 * missing, runs `npm run dashboard:build` (vite, offline) before synthesis. An existing build is
 * used as is; run the build yourself after changing the dashboard.
 */
export function ensureDashboardBuilt(dir = DEFAULT_DASHBOARD_DIR): void {
  if (existsSync(path.join(dir, 'index.html'))) return;
  console.error(`rekey: ${path.relative(REPO_ROOT, dir)}/index.html is missing; running npm run dashboard:build`);
  // stdout carries the cloud assembly protocol for the CDK CLI in some modes; keep the build's
  // chatter on stderr.
  const result = spawnSync('npm', ['run', 'dashboard:build'], { cwd: REPO_ROOT, stdio: ['ignore', process.stderr, process.stderr] });
  if (result.status !== 0 || !existsSync(path.join(dir, 'index.html'))) {
    throw new Error('npm run dashboard:build failed; fix it, or deploy without the dashboard (-c dashboard=false)');
  }
}
