/**
 * The operator CLI's `report-leak` (`npm run admin -- report-leak`): posts secrets to the target's
 * public `POST /v1/leaks`, exactly as anyone who finds one would, so it works the same against local
 * mode and a deployed stack. Self-contained so the CLI can move onto another client unchanged.
 */
import { MAX_LEAK_REPORT_SECRETS } from '../http/schemas.js';

/** Thrown for anything the operator must fix (no secrets, no API URL, an error answer). */
export class ReportLeakError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportLeakError';
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new ReportLeakError('give the leaked secrets on stdin (one per line) or with --secret');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Sends the report; returns the API's answer and a human summary (hints only, never the secrets). */
export async function reportLeakCommand(
  apiUrl: string | undefined,
  given: readonly string[] | undefined,
  opts: { fetch?: typeof fetch; stdin?: () => Promise<string> } = {},
): Promise<{ body: unknown; text: string }> {
  if (!apiUrl) throw new ReportLeakError('the API URL of this target is unknown (use the local instance or --stack NAME)');
  const secrets = (given?.length ? given : (await (opts.stdin ?? readStdin)()).split(/\r?\n/)).map((s) => s.trim()).filter(Boolean);
  if (secrets.length === 0) throw new ReportLeakError('no secrets given');
  if (secrets.length > MAX_LEAK_REPORT_SECRETS) throw new ReportLeakError(`at most ${MAX_LEAK_REPORT_SECRETS} secrets per report`);
  const res = await (opts.fetch ?? fetch)(`${apiUrl.replace(/\/+$/, '')}/v1/leaks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ secrets }),
  });
  const body = (await res.json().catch(() => null)) as { results?: { hint: string; outcome: string }[]; error?: { code: string; message: string } } | null;
  if (!res.ok || !body?.results) throw new ReportLeakError(`the API answered ${res.status}${body?.error ? ` ${body.error.code}: ${body.error.message}` : ''}`);
  return { body, text: body.results.map((r) => `${r.hint}  ${r.outcome}`).join('\n') };
}
