/**
 * Context settings of the standalone app (`cdk deploy -c name=value`), parsed and validated in one
 * place. Every setting and its default is listed in docs/deploy.md.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { parseOffsets } from '../shared/domain/policies.js';
import type { ApiKeyServiceProps } from './api-key-service.js';

/** Placeholder sender used when `senderEmail` is not given (synth works; mail will not). */
export const PLACEHOLDER_SENDER = 'rekey@example.com';

export interface AppSettings {
  readonly stackName: string;
  readonly service: ApiKeyServiceProps;
  /** Problems worth a warning that do not stop synthesis. */
  readonly warnings: readonly string[];
}

/** Thrown with every bad setting named. */
export class ContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextError';
  }
}

/** Every context key the app reads. */
export const CONTEXT_KEYS = [
  'stackName',
  'senderEmail',
  'senderDomain',
  'createSenderIdentity',
  'alarmEmail',
  'dashboard',
  'corsAllowedOrigin',
  'keyPrefix',
  'maxTransitionSeconds',
  'reminderLeadSeconds',
  'restoreWindowSeconds',
  'reactivationWindowSeconds',
  'maxKeyLifetimeSeconds',
  'expiryNoticeOffsets',
  'authCacheTtlSeconds',
  'auditRetentionDays',
  'leakReportsPerMinute',
  'secretScanningKeysFile',
  'throttleRateLimit',
  'throttleBurstLimit',
  'stageName',
  'logRetentionDays',
  'apiGatewayCloudWatchRole',
] as const;

/** Reads the settings; `get` is `app.node.tryGetContext`. Values may be strings (from `-c`) or JSON. */
export function settingsFromContext(get: (key: string) => unknown): AppSettings {
  const errors: string[] = [];
  const warnings: string[] = [];
  const str = (key: string): string | undefined => {
    const v = get(key);
    if (v === undefined || v === null || v === '') return undefined;
    return String(v).trim();
  };
  const int = (key: string): number | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) {
      errors.push(`${key} must be a whole number, got "${v}"`);
      return undefined;
    }
    return Number(v);
  };
  const bool = (key: string): boolean | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    if (v === 'true') return true;
    if (v === 'false') return false;
    errors.push(`${key} must be true or false, got "${v}"`);
    return undefined;
  };

  const stackName = str('stackName') ?? 'Rekey';
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) errors.push(`stackName must be a valid CloudFormation stack name, got "${stackName}"`);
  let senderEmail = str('senderEmail');
  if (senderEmail === undefined) {
    senderEmail = PLACEHOLDER_SENDER;
    warnings.push(`senderEmail is not set; using ${PLACEHOLDER_SENDER}, which cannot send mail. Deploy with -c senderEmail=you@your-domain.`);
  } else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(senderEmail)) errors.push(`senderEmail must be an email address, got "${senderEmail}"`);
  const senderDomain = str('senderDomain');
  if (senderDomain && !senderEmail.toLowerCase().endsWith(`@${senderDomain.toLowerCase()}`)) {
    errors.push(`senderEmail ${senderEmail} is not in senderDomain ${senderDomain}`);
  }
  const alarmEmails = (str('alarmEmail') ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  for (const e of alarmEmails) if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e)) errors.push(`alarmEmail must be email addresses separated by commas, got "${e}"`);

  let expiryNoticeOffsets: number[] | undefined;
  const offsets = get('expiryNoticeOffsets');
  if (offsets !== undefined && offsets !== null) {
    try {
      expiryNoticeOffsets = parseOffsets(String(offsets));
    } catch (e) {
      errors.push(`expiryNoticeOffsets: ${(e as Error).message}`);
    }
  }
  const retentionDays = int('logRetentionDays');
  if (retentionDays !== undefined && !(Object.values(RetentionDays) as number[]).includes(retentionDays)) {
    errors.push(`logRetentionDays must be one of CloudWatch's retention periods (1, 3, 5, 7, 14, 30, 60, 90, …), got ${retentionDays}`);
  }
  const rateLimit = int('throttleRateLimit');
  const burstLimit = int('throttleBurstLimit');

  const service: ApiKeyServiceProps = {
    senderEmail,
    senderDomain,
    createSenderIdentity: bool('createSenderIdentity'),
    alarmEmails,
    dashboard: bool('dashboard'),
    corsAllowedOrigin: str('corsAllowedOrigin'),
    keyPrefix: str('keyPrefix'),
    maxTransitionSeconds: int('maxTransitionSeconds'),
    reminderLeadSeconds: int('reminderLeadSeconds'),
    restoreWindowSeconds: int('restoreWindowSeconds'),
    reactivationWindowSeconds: int('reactivationWindowSeconds'),
    maxKeyLifetimeSeconds: int('maxKeyLifetimeSeconds'),
    expiryNoticeOffsets,
    authCacheTtlSeconds: int('authCacheTtlSeconds'),
    auditRetentionDays: int('auditRetentionDays'),
    leakReportsPerMinute: int('leakReportsPerMinute'),
    secretScanningKeysFile: str('secretScanningKeysFile'),
    throttle: rateLimit !== undefined || burstLimit !== undefined ? { rateLimit, burstLimit } : undefined,
    stageName: str('stageName'),
    apiGatewayCloudWatchRole: bool('apiGatewayCloudWatchRole'),
    logRetention: retentionDays as RetentionDays | undefined,
  };
  if (errors.length) throw new ContextError(`Invalid context settings:\n  ${errors.join('\n  ')}`);
  return { stackName, service, warnings };
}
