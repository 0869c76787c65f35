/**
 * `npm run bench`: the authorizer's cost, measured in one run (SPEC §4, DESIGN "Authorizer").
 *
 * Prints the warm path through the real handler next to one bare HMAC-SHA256 (the physical floor),
 * the cache-miss path against dynalite, store reads per verification, the deployed bundle's size and
 * the cold start of a fresh process; checks each against its target and exits 1 if one is missed.
 * Results are also written to `.bench/authorizer.json`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAuthorizerBundle } from './bundle.js';
import { measureColdStart } from './coldStart.js';
import { BENCH_TABLE, restRequestEvent, startFixture } from './fixture.js';
import { measureHotPath } from './hotPath.js';
import { measureUsageWrites } from './usage.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const COLD_RUNS = 11;

const us = (ns: number) => `${(ns / 1000).toFixed(2)} µs`;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const kib = (b: number) => `${(b / 1024).toFixed(0)} KiB`;

async function main(): Promise<number> {
  const started = performance.now();
  const work = await mkdtemp(join(tmpdir(), 'rekey-bench-'));
  const fx = await startFixture();
  try {
    const hot = await measureHotPath(fx);
    const usage = await measureUsageWrites(fx);
    const bundle = await buildAuthorizerBundle(ROOT, work);

    const dataDir = join(work, 'data');
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'pepper'), fx.pepper, { mode: 0o600 });
    const cold = await measureColdStart({
      bundleFile: bundle.file,
      workDir: work,
      env: {
        REKEY_DATA_DIR: dataDir,
        DYNAMODB_ENDPOINT: fx.dynamo.endpoint,
        TABLE_NAME: BENCH_TABLE,
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      event: restRequestEvent(fx.secret),
      expectPrincipal: fx.record.id,
      runs: COLD_RUNS,
    });

    const ratio = hot.warmRest.ns.median / hot.hmac.median;
    const warmReadsPer = hot.warmRest.reads / hot.warmRest.calls;
    const missReadsPer = hot.miss.reads / hot.miss.calls;
    const garbageReadsPer = hot.garbage.reads / hot.garbage.calls;
    const targets = [
      { name: 'warm path within 3× of the bare HMAC', ok: ratio <= 3, value: `${ratio.toFixed(2)}×` },
      { name: 'zero reads on a cache hit', ok: hot.warmRest.reads === 0 && hot.warmHttpV2.reads === 0, value: `${warmReadsPer}` },
      { name: 'exactly one read on a miss', ok: hot.miss.reads === hot.miss.calls, value: `${missReadsPer.toFixed(3)}` },
      { name: 'zero reads for a bad checksum', ok: hot.garbage.reads === 0, value: `${garbageReadsPer}` },
      { name: `zero reads for ${hot.forged.calls} distinct forged secrets`, ok: hot.forged.reads === 0, value: `${hot.forged.reads}` },
      { name: 'cold start < 100 ms above empty node', ok: cold.overheadMs < 100, value: ms(cold.overheadMs) },
      {
        name: `usage writes per instance per minute, ${usage.requestsPerMinute} requests over ${usage.secrets} secrets, ≤ ${usage.secrets}`,
        ok: usage.maxWritesPerMinute <= usage.secrets,
        value: `${usage.maxWritesPerMinute}`,
      },
      { name: 'usage counts stored exactly', ok: usage.stored === usage.sent, value: `${usage.stored} of ${usage.sent}` },
      { name: 'no store failures during the run', ok: hot.storeFailures === 0, value: `${hot.storeFailures}` },
    ];

    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    const rows: [string, string][] = [
      ['warm path, REST REQUEST (cache hit)', `median ${us(hot.warmRest.ns.median)}  p99 ${us(hot.warmRest.ns.p99)}  (n=${hot.warmRest.calls})`],
      ['warm path, HTTP API 2.0 (cache hit)', `median ${us(hot.warmHttpV2.ns.median)}  p99 ${us(hot.warmHttpV2.ns.p99)}  (n=${hot.warmHttpV2.calls})`],
      ['bare HMAC-SHA256 of a secret (floor)', `median ${us(hot.hmac.median)}  p99 ${us(hot.hmac.p99)}  (n=${hot.hmac.n})`],
      ['warm / HMAC (medians)', `${ratio.toFixed(2)}×`],
      ['bad checksum (denied, no read)', `median ${us(hot.garbage.ns.median)}  p99 ${us(hot.garbage.ns.p99)}`],
      [`${hot.forged.calls} distinct forged secrets (denied)`, `median ${us(hot.forged.ns.median)}  p99 ${us(hot.forged.ns.p99)}  reads ${hot.forged.reads}`],
      ['cache miss, one GetItem (dynalite)', `median ${us(hot.miss.ns.median)}  p99 ${us(hot.miss.ns.p99)}  (n=${hot.miss.calls})`],
      ['usage writes per minute (10k req / 3 secrets)', `${usage.writesPerMinute.join(', ')}  (minutes 1..${usage.minutes}; counts stored ${usage.stored}/${usage.sent})`],
      ['reads per verification', `hit ${warmReadsPer}  miss ${missReadsPer.toFixed(3)}  bad checksum ${garbageReadsPer}  forged id ${hot.forged.reads / hot.forged.calls}`],
      ['bundle (esbuild, minified ESM)', `${kib(bundle.bytes)} (${bundle.bytes} B), gzip ${kib(bundle.gzipBytes)}`],
      ['  largest parts', bundle.top.map(([k, b]) => `${k} ${kib(b)}`).join(', ')],
      ['cold start: empty node / authorizer', `${ms(cold.emptyNodeMs)} / ${ms(cold.authorizerNodeMs)}  (medians of ${cold.runs})`],
      ['cold start above empty node', `${ms(cold.overheadMs)}  (import ${ms(cold.importMs)}, first request ${ms(cold.firstRequestMs)})`],
      ['cold start CPU: empty / authorizer', `${ms(cold.emptyNodeCpuMs)} / ${ms(cold.authorizerCpuMs)}  (+${ms(cold.overheadCpuMs)})`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    const load = loadavg()[0]!;
    console.log(`rekey authorizer bench — node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} × ${cpu}, load ${load.toFixed(2)}`);
    if (load > cpus().length) console.log('  note: the machine is busy; wall-clock figures (cold start above all) are inflated. CPU time is shown too.');
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
    console.log('targets:');
    for (const t of targets) console.log(`  ${t.ok ? 'PASS' : 'FAIL'}  ${t.name}: ${t.value}`);
    console.log(`(bench took ${((performance.now() - started) / 1000).toFixed(1)} s)`);

    await mkdir(join(ROOT, '.bench'), { recursive: true });
    await writeFile(
      join(ROOT, '.bench', 'authorizer.json'),
      JSON.stringify({ at: new Date().toISOString(), node: process.version, cpu, hot, usage, bundle: { bytes: bundle.bytes, gzipBytes: bundle.gzipBytes, top: bundle.top }, cold, ratio, targets }, null, 2),
    );
    return targets.every((t) => t.ok) ? 0 : 1;
  } finally {
    await fx.close();
    await rm(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
