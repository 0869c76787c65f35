/**
 * SPEC §6 from the outside: `npm start` in a process group of its own, every TCP port any process
 * of that group listens on (found in /proc, not taken from rekey's own reports), and on each port a
 * request without the credential and a cross-origin preflight, both refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, ROOT_DIR } from './harness.js';

/** Pids of every live process in process group `pgid` (field 5 of /proc/<pid>/stat). */
function groupPids(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name (field 2) may contain spaces; fields after its closing parenthesis are plain.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) out.push(Number(name));
    } catch {
      // The process ended meanwhile.
    }
  }
  return out;
}

/** Socket inodes a process holds open. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]!);
    } catch {
      // Closed meanwhile.
    }
  }
  return out;
}

/** Listening TCP sockets (IPv4 and IPv6): inode → {address, port}. */
function listeningTcp(): Map<string, { address: string; port: number }> {
  const out = new Map<string, { address: string; port: number }>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== '0A') continue; // TCP_LISTEN
      const [addr, port] = cols[1]!.split(':');
      out.set(cols[9]!, { address: addr!, port: parseInt(port!, 16) });
    }
  }
  return out;
}

/** Every TCP port the process group listens on, with the address it is bound to. */
function groupPorts(pgid: number): { address: string; port: number }[] {
  const listening = listeningTcp();
  const found = new Map<number, { address: string; port: number }>();
  for (const pid of groupPids(pgid)) {
    for (const inode of socketInodes(pid)) {
      const l = listening.get(inode);
      if (l) found.set(l.port, l);
    }
  }
  return [...found.values()];
}

describe('every TCP port of local mode refuses requests without the credential and cross-origin preflights', () => {
  let child: ChildProcess;
  let dataDir: string;
  let gatewayPort = 0;
  let output = '';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rekey-ports-'));
    // `npm start` exactly as a user runs it, as the leader of a new process group.
    child = spawn('npm', ['start', '--silent'], {
      cwd: ROOT_DIR,
      env: childEnv({ PORT: '0', REKEY_DASHBOARD: 'off', REKEY_DATA_DIR: dataDir, REKEY_ACCESS_LOG: 'off' }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    gatewayPort = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not get ready:\n${output}`)), 45_000);
      child.stdout!.on('data', (d: Buffer) => {
        output += d.toString();
        const m = /^READY http:\/\/127\.0\.0\.1:(\d+)$/m.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
    });
  }, 60_000);

  afterAll(async () => {
    const pgid = child?.pid;
    if (pgid) {
      // Only the group this test started, by its id: Ctrl-C as a terminal would send it, then wait.
      const signal = (s: NodeJS.Signals) => {
        try {
          process.kill(-pgid, s);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        }
      };
      signal('SIGINT');
      const deadline = Date.now() + 10_000;
      while (groupPids(pgid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (groupPids(pgid).length > 0) signal('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finds the gateway and the store, all on loopback, and each refuses both', async () => {
    const ports = groupPorts(child.pid!);
    // At least the gateway and the store; nothing else is expected, but whatever is there is probed.
    expect(ports.map((p) => p.port)).toContain(gatewayPort);
    expect(ports.length).toBeGreaterThanOrEqual(2);
    const { dynamoEndpoint } = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as { dynamoEndpoint: string };
    expect(ports.map((p) => p.port)).toContain(Number(new URL(dynamoEndpoint).port));

    for (const { address, port } of ports) {
      // 0100007F is 127.0.0.1 in /proc's little-endian hex: nothing listens on another interface.
      expect([port, address]).toEqual([port, '0100007F']);
      const base = `http://127.0.0.1:${port}`;
      const noCredential = [
        fetch(`${base}/`, { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0' }, body: '{}' }),
        fetch(`${base}/v1/keys`),
        fetch(`${base}/v1/account`, { method: 'GET', headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables' } }),
      ];
      for (const res of await Promise.all(noCredential)) {
        const body = await res.text();
        // Refused: a 4xx, and nothing of the store (no table list) in the answer.
        expect([port, res.url, res.status >= 400 && res.status < 500]).toEqual([port, res.url, true]);
        expect(body).not.toMatch(/TableNames/);
      }
      for (const path of ['/', '/v1/keys']) {
        const preflight = await fetch(`${base}${path}`, {
          method: 'OPTIONS',
          headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,x-amz-target,content-type' },
        });
        await preflight.arrayBuffer();
        expect([port, path, preflight.status >= 400, preflight.headers.get('access-control-allow-origin')]).toEqual([port, path, true, null]);
      }
    }
  });
});
