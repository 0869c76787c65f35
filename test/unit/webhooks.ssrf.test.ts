/** SSRF defences (SPEC §10): every refused range, odd spellings, and DNS answers that change. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPublicAddress, mappedIpv4, resolveTarget, urlProblem, type Resolve } from '../../shared/webhooks/ssrf.js';
import { sendAttempt } from '../../shared/webhooks/sender.js';

const AWS = { allowLocalHttp: false };
const LOCAL = { allowLocalHttp: true };

describe('isPublicAddress', () => {
  it.each([
    ['0.0.0.0', 'this network'],
    ['10.1.2.3', 'private 10/8'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.254', 'CGNAT (top)'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback (top)'],
    ['169.254.169.254', 'link-local: instance metadata'],
    ['172.16.0.1', 'private 172.16/12'],
    ['172.31.255.255', 'private 172.16/12 (top)'],
    ['192.0.0.8', 'IETF protocol assignments'],
    ['192.0.2.1', 'TEST-NET-1'],
    ['192.168.1.1', 'private 192.168/16'],
    ['198.18.0.1', 'benchmarking'],
    ['198.51.100.7', 'TEST-NET-2'],
    ['203.0.113.9', 'TEST-NET-3'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast (SSDP)'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'IPv6 unspecified'],
    ['::1', 'IPv6 loopback'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local fd'],
    ['fe80::1', 'IPv6 link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'IPv6 multicast'],
    ['2001:db8::1', 'documentation'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of 169.254.169.254'],
    ['2002:7f00:1::', '6to4 of 127.0.0.1'],
    ['2001:0:4136:e378::1', 'Teredo'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback (dotted)'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback (hex)'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped instance metadata'],
    ['0:0:0:0:0:ffff:10.0.0.1', 'IPv4-mapped private, long form'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['not-an-ip', 'not an address'],
  ])('refuses %s (%s)', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each(['93.184.215.14', '8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'accepts the public address %s',
    (ip) => expect(isPublicAddress(ip)).toBe(true),
  );

  it('reads IPv4-mapped IPv6 in both spellings', () => {
    expect(mappedIpv4('::ffff:192.168.0.1')).toBe('192.168.0.1');
    expect(mappedIpv4('::ffff:c0a8:1')).toBe('192.168.0.1');
    expect(mappedIpv4('2001:db8::1')).toBeNull();
  });
});

describe('urlProblem (creation time)', () => {
  it.each([
    ['https://2130706433/', 'decimal 127.0.0.1'],
    ['https://0177.0.0.1/', 'octal 127.0.0.1'],
    ['https://0x7f.0.0.1/', 'hex 127.0.0.1'],
    ['https://0xa9.0xfe.0xa9.0xfe/latest/meta-data', 'hex 169.254.169.254'],
    ['https://2852039166/', 'decimal 169.254.169.254'],
    ['https://012.0.0.1/', 'octal 10.0.0.1'],
    ['https://127.1/', 'short 127.0.0.1'],
    ['https://[::ffff:127.0.0.1]/', 'IPv4-mapped loopback'],
    ['https://[::1]:8443/', 'IPv6 loopback'],
    ['https://[fe80::1]/', 'link-local'],
    ['https://localhost/', 'localhost over https'],
    ['https://api.localhost/', '*.localhost'],
    ['https://intranet/', 'single-label name'],
    ['http://hooks.example.com/', 'plain http'],
    ['http://127.0.0.1:8080/', 'loopback http outside local mode'],
    ['https://u:p@hooks.example.com/', 'credentials'],
    ['file:///etc/passwd', 'file scheme'],
    ['not a url', 'garbage'],
    [' https://hooks.example.com/rekey', 'a leading space'],
    ['https://hooks.example.com/re key', 'a space inside'],
    ['https://hooks.example.com:0/rekey', 'port 0'],
  ])('refuses %s (%s) in AWS', (url) => {
    expect(urlProblem(url, AWS)).not.toBeNull();
  });

  it('accepts https to a public name or address', () => {
    expect(urlProblem('https://hooks.example.com/rekey?x=1', AWS)).toBeNull();
    expect(urlProblem('https://93.184.215.14:8443/x', AWS)).toBeNull();
  });

  it('local mode also accepts http://127.0.0.1:<port> and http://localhost:<port>, nothing wider', () => {
    expect(urlProblem('http://127.0.0.1:4000/hook', LOCAL)).toBeNull();
    expect(urlProblem('http://127.0.0.1:0/hook', LOCAL)).toBe('must not use port 0');
    expect(urlProblem(' http://127.0.0.1:4000/hook', LOCAL)).toBe('must not contain spaces');
    expect(urlProblem('http://localhost:4000/hook', LOCAL)).toBeNull();
    expect(urlProblem('http://127.0.0.1/hook', LOCAL)).not.toBeNull(); // no port
    expect(urlProblem('http://127.0.0.2:4000/', LOCAL)).not.toBeNull();
    expect(urlProblem('http://2130706433:4000/', LOCAL)).toBeNull(); // the same address, normalised by the URL parser
    expect(urlProblem('http://10.0.0.1:4000/', LOCAL)).not.toBeNull();
    expect(urlProblem('https://[::1]:4000/', LOCAL)).not.toBeNull();
  });
});

describe('resolveTarget (delivery time)', () => {
  it('refuses a host that resolves first to a public and then to a private address, on the second check', async () => {
    const answers = [[{ address: '93.184.215.14', family: 4 }], [{ address: '10.0.0.7', family: 4 }]];
    let calls = 0;
    const resolve: Resolve = async () => answers[calls++]!;
    const first = await resolveTarget('https://rebind.example.com/hook', AWS, resolve);
    expect(first.address).toBe('93.184.215.14');
    await expect(resolveTarget('https://rebind.example.com/hook', AWS, resolve)).rejects.toThrow(/not public/);
    expect(calls).toBe(2);
  });

  it('refuses a name with any private address among its answers, and one that does not resolve', async () => {
    const mixed: Resolve = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '::ffff:169.254.169.254', family: 6 },
    ];
    await expect(resolveTarget('https://mixed.example.com/', AWS, mixed)).rejects.toThrow(/not public/);
    await expect(resolveTarget('https://none.example.com/', AWS, async () => [])).rejects.toThrow(/did not resolve/);
    await expect(resolveTarget('https://err.example.com/', AWS, async () => Promise.reject(new Error('ENOTFOUND')))).rejects.toThrow(/did not resolve/);
  });
});

describe('sendAttempt', () => {
  let server: Server;
  let port = 0;
  const seen: { host: string | undefined; path: string | undefined }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ host: req.headers.host, path: req.url });
      if (req.url === '/redirect') return void res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end();
      if (req.url === '/big') {
        res.writeHead(200);
        const chunk = Buffer.alloc(16 * 1024, 97);
        let sent = 0;
        const pump = () => {
          while (sent < 10 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        return pump();
      }
      if (req.url === '/slow') return; // never answers
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  it('connects to the checked address, not to whatever the name resolves to later, and keeps the URL host', async () => {
    const url = new URL(`http://rebind.example.com:${port}/pinned`);
    const r = await sendAttempt({ url, address: '127.0.0.1', family: 4 }, {}, '{}');
    expect(r.statusCode).toBe(204);
    expect(seen.at(-1)).toEqual({ host: `rebind.example.com:${port}`, path: '/pinned' });
  });

  it('does not follow redirects: a 3xx is the answer', async () => {
    const before = seen.length;
    const r = await sendAttempt({ url: new URL(`http://127.0.0.1:${port}/redirect`), address: '127.0.0.1', family: 4 }, {}, '{}');
    expect(r.statusCode).toBe(302);
    expect(seen.length).toBe(before + 1);
  });

  it('reads at most 64 KiB of a response', async () => {
    const r = await sendAttempt({ url: new URL(`http://127.0.0.1:${port}/big`), address: '127.0.0.1', family: 4 }, {}, '{}', { maxResponseBytes: 64 * 1024 });
    expect(r.statusCode).toBe(200);
    expect(r.durationMs).toBeLessThan(5_000);
  });

  it('gives up after the timeout with a short reason', async () => {
    const r = await sendAttempt({ url: new URL(`http://127.0.0.1:${port}/slow`), address: '127.0.0.1', family: 4 }, {}, '{}', { timeoutMs: 200 });
    expect(r).toMatchObject({ statusCode: null, error: 'timeout after 0 s' });
  });

  it('reports a refused connection by its code', async () => {
    const r = await sendAttempt({ url: new URL('http://127.0.0.1:1/'), address: '127.0.0.1', family: 4 }, {}, '{}');
    expect(r).toMatchObject({ statusCode: null, error: 'ECONNREFUSED' });
  });
});
