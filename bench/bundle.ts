/**
 * Bundles the authorizer the way the CDK construct does (`infra/function.ts`: ESM, minified, every
 * dependency inside, `createRequire` banner), so size and cold start are those of what is deployed.
 */
import { build } from 'esbuild';
import { stat } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BundleResult {
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Largest contributors (package or source folder → bytes in the output). */
  readonly top: readonly [string, number][];
}

export async function buildAuthorizerBundle(rootDir: string, outDir: string): Promise<BundleResult> {
  const file = join(outDir, 'authorizer.mjs');
  const result = await build({
    absWorkingDir: rootDir,
    entryPoints: ['functions/authorizer.ts'],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    mainFields: ['module', 'main'],
    metafile: true,
    logLevel: 'error',
    banner: { js: "import { createRequire as __rekeyCreateRequire } from 'node:module'; const require = __rekeyCreateRequire(import.meta.url);" },
  });
  const bytes = (await stat(file)).size;
  const gzipBytes = gzipSync(readFileSync(file)).length;
  const byOwner = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [input, info] of Object.entries(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const owner = m ? m[1]! : input.split('/').slice(0, 2).join('/');
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + info.bytesInOutput);
    }
  }
  const top = [...byOwner.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6);
  return { file, bytes, gzipBytes, top };
}
