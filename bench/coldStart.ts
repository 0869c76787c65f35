/**
 * Cold start: a fresh `node` process that imports the bundle and serves its first request (pepper
 * loaded through the pepper interface, one GetItem against dynalite, the first last-use write),
 * compared with an empty `node -e 0`. Processes run one after the other, alternating, and the
 * medians are compared.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './stats.js';

export interface ColdStartResult {
  readonly runs: number;
  /** Median wall time of `node -e 0`, ms. */
  readonly emptyNodeMs: number;
  /** Median wall time of load + first request + exit, ms. */
  readonly authorizerNodeMs: number;
  /** The difference: what the authorizer adds to a cold start. */
  readonly overheadMs: number;
  /** Median CPU time (user + system) of each process, and the difference: robust on a busy machine. */
  readonly emptyNodeCpuMs: number;
  readonly authorizerCpuMs: number;
  readonly overheadCpuMs: number;
  /** Medians measured inside the child: `import()` of the bundle, and the first request. */
  readonly importMs: number;
  readonly firstRequestMs: number;
}

const CHILD = `
const t0 = performance.now();
const { handler } = await import(process.env.REKEY_BENCH_BUNDLE);
const t1 = performance.now();
const result = await handler(JSON.parse(process.env.REKEY_BENCH_EVENT));
const t2 = performance.now();
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ importMs: t1 - t0, firstRequestMs: t2 - t1, cpuMs: (cpu.user + cpu.system) / 1000, principalId: result.principalId }));
process.exit(0);
`;

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // Asynchronous on purpose: dynalite runs in this process and must answer the child.
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) reject(new Error(`child exited ${code}: ${stderr.slice(0, 2000)}`));
      else resolve({ ms, stdout });
    });
  });
}

export async function measureColdStart(opts: {
  readonly bundleFile: string;
  readonly workDir: string;
  readonly env: Record<string, string>;
  readonly event: unknown;
  readonly expectPrincipal: string;
  readonly runs: number;
}): Promise<ColdStartResult> {
  const script = join(opts.workDir, 'cold-start-child.mjs');
  await writeFile(script, CHILD);
  // A clean environment: nothing from this process (no tsx loader, no NODE_OPTIONS) leaks in.
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  const env = {
    ...base,
    ...opts.env,
    REKEY_BENCH_BUNDLE: pathToFileURL(opts.bundleFile).href,
    REKEY_BENCH_EVENT: JSON.stringify(opts.event),
  };
  const EMPTY = ['-e', 'const c = process.cpuUsage(); process.stdout.write(JSON.stringify({ cpuMs: (c.user + c.system) / 1000 }))'];
  const emptyCpu: number[] = [];
  const fullCpu: number[] = [];
  const empty: number[] = [];
  const full: number[] = [];
  const imports: number[] = [];
  const firsts: number[] = [];
  await run(['-e', '0'], base); // page cache warm for the node binary itself
  await run([script], env);
  for (let i = 0; i < opts.runs; i++) {
    empty.push((await run(['-e', '0'], base)).ms);
    emptyCpu.push((JSON.parse((await run(EMPTY, base)).stdout) as { cpuMs: number }).cpuMs);
    const r = await run([script], env);
    const out = JSON.parse(r.stdout) as { importMs: number; firstRequestMs: number; cpuMs: number; principalId?: string };
    fullCpu.push(out.cpuMs);
    if (out.principalId !== opts.expectPrincipal) throw new Error('cold start: the first request was not allowed');
    full.push(r.ms);
    imports.push(out.importMs);
    firsts.push(out.firstRequestMs);
  }
  const emptyNodeMs = median(empty);
  const authorizerNodeMs = median(full);
  return {
    runs: opts.runs,
    emptyNodeMs,
    authorizerNodeMs,
    overheadMs: authorizerNodeMs - emptyNodeMs,
    emptyNodeCpuMs: median(emptyCpu),
    authorizerCpuMs: median(fullCpu),
    overheadCpuMs: median(fullCpu) - median(emptyCpu),
    importMs: median(imports),
    firstRequestMs: median(firsts),
  };
}
