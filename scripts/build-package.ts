/**
 * Builds what the npm package ships (`npm pack` runs it as `prepack`), into `dist/`:
 * - `dist/functions/<entry>/index.mjs` (+ map): every Lambda function, bundled with the exact
 *   esbuild settings NodejsFunction uses from the sources (`FUNCTION_BUNDLING`), so a consumer's
 *   `cdk synth` needs no esbuild, no Docker and none of rekey's runtime dependencies;
 * - `dist/dashboard/`: the dashboard build (vite), so a consumer synthesizes with the dashboard on;
 * - `dist/infra/index.js` and `dist/infra/nag.js` (cdk-nag checks): the CDK code as ESM, with rekey's own modules
 *   inlined and `aws-cdk-lib`, `constructs` and `cdk-nag` left to the consumer (peer dependencies);
 * - `dist/types/`: declarations for both entries.
 * Run it by hand with `npx tsx scripts/build-package.ts`.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { BUNDLE_FILE, FUNCTION_BUNDLING } from '../infra/function.js';
import { PACKAGE_DIST_DIR, PREBUILT_FUNCTIONS_DIR, prebuiltBundleDir, REPO_ROOT } from '../infra/paths.js';
import { DEPLOYED_ENTRIES } from '../shared/http/routes.js';

/** NodejsFunction's bundling settings as esbuild options (the flags it passes to the esbuild CLI). */
export function esbuildOptions(b: typeof FUNCTION_BUNDLING): BuildOptions {
  return {
    bundle: true,
    format: b.format,
    target: b.target,
    platform: b.platform,
    minify: b.minify,
    sourcemap: b.sourceMap,
    sourcesContent: b.esbuildArgs['--sources-content'] !== 'false',
    external: [...b.externalModules],
    mainFields: [...b.mainFields],
    banner: { js: b.banner },
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  };
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', process.stderr, process.stderr] });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code ?? signal})`))));
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  rmSync(PACKAGE_DIST_DIR, { recursive: true, force: true });

  const entries = DEPLOYED_ENTRIES;
  // One esbuild run with one entry point per function: without code splitting every output is a
  // self-contained bundle, the same as NodejsFunction's one-entry runs, but parsed once.
  const entryPoints = Object.fromEntries(
    entries.map((entry) => [path.relative(PREBUILT_FUNCTIONS_DIR, path.join(prebuiltBundleDir(entry), BUNDLE_FILE.replace(/\.mjs$/, ''))), path.join(REPO_ROOT, entry)]),
  );
  const functions = build({ ...esbuildOptions(FUNCTION_BUNDLING), entryPoints, outdir: PREBUILT_FUNCTIONS_DIR });

  const infra = build({
    entryPoints: { index: path.join(REPO_ROOT, 'infra/index.ts'), nag: path.join(REPO_ROOT, 'infra/nag-checks.ts') },
    outdir: path.join(PACKAGE_DIST_DIR, 'infra'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The consumer's copies: one aws-cdk-lib and one constructs in an app, or constructs do not mix.
    external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag'],
    // Inlined CommonJS modules call require() for Node built-ins; give the ESM output one.
    banner: { js: FUNCTION_BUNDLING.banner },
    logLevel: 'warning',
  });

  const dashboard = run(path.join(REPO_ROOT, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn', '--config', 'dashboard/vite.config.ts', '--outDir', path.join(PACKAGE_DIST_DIR, 'dashboard'), '--emptyOutDir']);
  const types = run(path.join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.package.json']);
  await Promise.all([functions, infra, dashboard, types]);
  console.error(`rekey: package build (${entries.length} functions, dashboard, CDK code, types) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

await main();
