import type { Context, ScheduledEvent } from 'aws-lambda';
import { handleTimer, reconcileTimers } from '../shared/domain/service.js';
import { TIMER_KINDS, type Timer } from '../shared/domain/types.js';
import { runtime } from '../shared/runtime.js';

/**
 * Target of every EventBridge Scheduler one-shot schedule (and of local mode's scheduler), and of
 * the periodic timer reconciliation (an EventBridge rule).
 *
 * A timer: delivery is at least once; `handleTimer` re-reads the key and acts only if this timer is
 * still planned and not yet fired, so duplicates and stale timers are no-ops. A thrown error fails
 * the asynchronous invocation: Lambda retries it twice, then sends it to the timer function's
 * failure queue (an alarm watches it), and the reconciliation performs the timer anyway.
 *
 * The reconciliation (`Scheduled Event`): performs every planned, unfired timer that is overdue.
 */
export const handler = async (event: Timer | ScheduledEvent, _context?: Context): Promise<{ outcome: string } | { keys: number; acted: number; failed: number }> => {
  const rt = runtime();
  if (isScheduledEvent(event)) {
    const result = await reconcileTimers(rt);
    if (result.keys > 0) rt.log.info('timer reconciliation', result);
    return result;
  }
  if (!isTimer(event)) {
    rt.log.error('timer: malformed payload ignored', { keys: event && typeof event === 'object' ? Object.keys(event) : typeof event });
    return { outcome: 'malformed' };
  }
  const outcome = await handleTimer(event, rt);
  rt.log.info('timer handled', { keyId: event.keyId, timerId: event.id, kind: event.kind, outcome });
  return { outcome };
};

function isScheduledEvent(v: unknown): v is ScheduledEvent {
  const e = v as Partial<ScheduledEvent> | null;
  return !!e && e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event';
}

function isTimer(v: unknown): v is Timer {
  const t = v as Partial<Timer> | null;
  return (
    !!t && typeof t.id === 'string' && typeof t.keyId === 'string' && typeof t.at === 'number' &&
    typeof t.kind === 'string' && (TIMER_KINDS as readonly string[]).includes(t.kind)
  );
}
