/** EventBridge adapter: publishes rekey domain events to a bus. */
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, eventDetail, isPublished, serializeDetail } from '../domain/eventDetail.js';
import type { EventPublisher } from '../domain/ports.js';
import type { AuditEvent } from '../domain/types.js';

let defaultClient: EventBridgeClient | undefined;
/** One client per process, built on first use. */
function sharedClient(): EventBridgeClient {
  defaultClient ??= new EventBridgeClient({});
  return defaultClient;
}

export interface EventBridgePublisherOptions {
  /** Injected in tests; defaults to one module-level client. */
  readonly client?: EventBridgeClient;
  /** Bus name or ARN. */
  readonly eventBusName: string;
}

/**
 * {@link EventPublisher} backed by `PutEvents`: source `rekey`, detail-type = event type, detail
 * `{id, type, at, accountId, keyId, actorKeyId, data}`. Audit-only event types are not published.
 * Subscribers should de-duplicate on `detail.id`: the outbox delivers at least once.
 */
export class EventBridgePublisher implements EventPublisher {
  private readonly client: EventBridgeClient;

  constructor(private readonly opts: EventBridgePublisherOptions) {
    this.client = opts.client ?? sharedClient();
  }

  /** Builds the exact `PutEvents` input, or `null` for an audit-only event. Throws on a secret-like detail. */
  putEventsInput(event: AuditEvent): PutEventsCommandInput | null {
    if (!isPublished(event)) return null;
    const detail = eventDetail(event);
    return {
      Entries: [
        {
          Source: EVENT_SOURCE,
          DetailType: event.type,
          Detail: serializeDetail(detail),
          EventBusName: this.opts.eventBusName,
          Time: new Date(event.at),
        },
      ],
    };
  }

  async publish(event: AuditEvent): Promise<void> {
    const input = this.putEventsInput(event);
    if (!input) return;
    let out;
    try {
      out = await this.client.send(new PutEventsCommand(input));
    } catch (err) {
      throw new Error(`PutEvents ${event.type} ${event.id} failed: ${err instanceof Error ? err.name : 'UnknownError'}`, { cause: err });
    }
    // PutEvents answers 200 even when an entry was rejected; the entry carries the error.
    if ((out.FailedEntryCount ?? 0) > 0) {
      const entry = out.Entries?.[0];
      throw new Error(`PutEvents ${event.type} ${event.id} rejected: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
    }
  }
}
