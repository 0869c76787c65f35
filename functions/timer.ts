import type { Context } from 'aws-lambda';
import { handleTimer } from '../shared/domain/service.js';
import { TIMER_KINDS, type Timer } from '../shared/domain/types.js';
import { runtime } from '../shared/runtime.js';

/**
 * Target of every EventBridge Scheduler one-shot schedule (and of local mode's scheduler). Delivery
 * is at least once: `handleTimer` re-reads the key and acts only if this timer is still planned and
 * not yet fired, so duplicates and stale timers are no-ops. A thrown error makes Scheduler retry,
 * then dead-letter.
 */
export const handler = async (event: Timer, _context?: Context): Promise<{ outcome: string }> => {
  const rt = runtime();
  if (!isTimer(event)) {
    rt.log.error('timer: malformed payload ignored', { keys: event && typeof event === 'object' ? Object.keys(event) : typeof event });
    return { outcome: 'malformed' };
  }
  const outcome = await handleTimer(event, rt);
  rt.log.info('timer handled', { keyId: event.keyId, timerId: event.id, kind: event.kind, outcome });
  return { outcome };
};

function isTimer(v: unknown): v is Timer {
  const t = v as Partial<Timer> | null;
  return (
    !!t && typeof t.id === 'string' && typeof t.keyId === 'string' && typeof t.at === 'number' &&
    typeof t.kind === 'string' && (TIMER_KINDS as readonly string[]).includes(t.kind)
  );
}
