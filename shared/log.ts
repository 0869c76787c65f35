import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from './domain/ports.js';

/** Powertools logger narrowed to the domain's `Log`. Never given a secret. */
export function createLog(serviceName = 'rekey'): Log & { logger: Logger } {
  const logger = new Logger({ serviceName, logLevel: (process.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
  return {
    logger,
    info: (m, meta) => logger.info(m, meta ?? {}),
    warn: (m, meta) => logger.warn(m, meta ?? {}),
    error: (m, meta) => logger.error(m, meta ?? {}),
  };
}
