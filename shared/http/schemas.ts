/**
 * The zod schemas of the management API: the single source for request validation in the handlers
 * and for the OpenAPI document (`shared/http/openapi.ts`). Ranges that depend on deployment policies
 * (`maxTransitionSeconds`, `maxKeyLifetimeSeconds`) are enforced by the domain and reported as
 * `validation_error` naming the same field.
 */
import { z } from 'zod';
// A name must never carry anything shaped like a secret into events, emails and logs.
import { SECRET_LIKE } from '../domain/keyFormat.js';
import { PUBLISHED_EVENT_TYPES } from '../domain/types.js';

// Names appear in email subjects, logs and the dashboard: no control characters, no line/paragraph
// separators, no unpaired surrogates (not valid Unicode), and no format characters (category Cf:
// invisible ones such as U+200B, U+00AD, U+FEFF, tag characters, and the bidirectional marks and
// overrides that spoof subjects), except U+200C and U+200D, which some scripts and emoji need.
const NAME_PATTERN = /^(?:[^\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]|[\u200C\u200D])+$/u;
export const SCOPE_PATTERN = /^[a-z0-9][a-z0-9_.:*-]{0,63}$/;

export const Name = z
  .string()
  .min(1, 'must be 1 to 128 characters')
  .max(128, 'must be 1 to 128 characters')
  .regex(NAME_PATTERN, 'must not contain control characters or invisible format characters')
  .refine((v) => !SECRET_LIKE.test(v), 'must not contain an API key')
  .meta({
    description: 'Human-readable name, 1–128 characters, no control characters and no format characters (Unicode Cf) other than U+200C and U+200D.',
    example: 'billing-worker',
  });

export const EnvironmentSchema = z.enum(['live', 'test']).meta({ description: '`live` or `test` (sandbox).' });

export const Scopes = z
  .array(z.string().regex(SCOPE_PATTERN, 'must match ^[a-z0-9][a-z0-9_.:*-]{0,63}$'))
  .max(50, 'at most 50 scopes')
  .meta({
    description: 'Scopes. `keys:read` and `keys:write` are reserved for the management API; others are passed to consumer APIs.',
    example: ['keys:read', 'reports:export'],
  });

export const Timestamp = z.iso.datetime({ offset: true }).meta({ description: 'RFC 3339 timestamp.', example: '2026-12-01T12:00:00Z' });
const NullableTimestamp = Timestamp.nullable();

const Seconds = (description: string) => z.int('must be an integer').min(0, 'must be at least 0').meta({ description });

/** A key's contacts (SPEC §10): replaces the list; new addresses get a confirmation link first. */
const Contacts = z
  .array(z.email('must be an email address').max(254))
  .max(5, 'at most 5 addresses')
  .meta({
    description:
      "Addresses that receive this key's reminders and notices besides the account's alert emails (at most 5). Replaces the list: an address added through the API first gets one confirmation link and is listed in `pendingEmails` until it confirms; a removed address gets one notice.",
  });

export const CreateKeyBody = z
  .strictObject({
    name: Name,
    environment: EnvironmentSchema.optional().meta({ description: "Defaults to the caller's environment." }),
    scopes: Scopes.optional().meta({ description: 'Defaults to none.' }),
    expiresAt: NullableTimestamp.optional().meta({
      description: 'When the key expires; `null` for never. Defaults to the deployment maximum lifetime when one is set.',
    }),
    contacts: Contacts.optional(),
  })
  .meta({ id: 'CreateKeyRequest' });

export const UpdateKeyBody = z
  .strictObject({
    name: Name.optional(),
    scopes: Scopes.optional(),
    expiresAt: NullableTimestamp.optional().meta({ description: "New expiry of the current secret; `null` for never." }),
    contacts: Contacts.optional(),
  })
  .meta({ id: 'UpdateKeyRequest' });

export const RotateBody = z
  .strictObject({
    oldKeyExpiresInSeconds: Seconds(
      'How long the old secret keeps working, from now. 0 stops it at once. At most the deployment maximum (default 259200). Default 86400, or the deployment maximum when that is shorter; the answer\'s `rotation.oldKeyExpiresAt` shows the window given.',
    ).optional(),
    expiresAt: NullableTimestamp.optional().meta({
      description: "Expiry of the new secret. Defaults to the old secret's lifetime counted from now.",
    }),
    expireWhenIdleSeconds: z
      .int('must be an integer')
      .min(600, 'must be at least 600')
      .optional()
      .meta({
        description:
          'Idle cut-over: once the new secret has been used, expire the old one as soon as it has gone unused this long (never later than the window). 600 up to the window.',
      }),
  })
  .meta({ id: 'RotateKeyRequest' });

export const UpdateRotationBody = z
  .strictObject({
    oldKeyExpiresInSeconds: Seconds('New life of the secret in the previous slot, counted from now; 0 expires it now.'),
  })
  .meta({ id: 'UpdateRotationRequest' });

export const CancelRotationBody = z
  .strictObject({
    newKeyExpiresInSeconds: Seconds(
      'How long the new secret keeps working after the cancel. Default 0 during a rotation, 86400 when restoring after expiry.',
    ).optional(),
  })
  .meta({ id: 'CancelRotationRequest' });

export const EmptyBody = z.strictObject({}).meta({ id: 'EmptyRequest' });

const AlertEmails = z.array(z.email('must be an email address').max(254)).max(20, 'at most 20 addresses');

export const AlertEmailsBody = z
  .strictObject({
    alertEmails: AlertEmails,
  })
  .meta({ id: 'AlertEmailsRequest' });

// ---- admin API (SPEC §9) ----------------------------------------------------------------------

export const AccountStatusSchema = z.enum(['active', 'suspended']).meta({ description: '`suspended`: every key of the account is refused.' });
/** What rekey does with a valid leaked secret of the account (SPEC §11); set by the operator. */
export const LeakResponseSchema = z.enum(['revoke', 'notify']).meta({
  description: '`revoke` (default): a leaked current secret revokes its key and a leaked previous secret expires at once; `notify`: the account is only told.',
});
const AllowedScopes = Scopes.meta({
  description: "Consumer scopes the account's keys may be given beyond what their creator holds (the customer's entitlement).",
  example: ['invoices:read', 'reports:export'],
});

export const CreateAccountBody = z
  .strictObject({
    name: Name.meta({ description: 'Account name, 1–128 characters, no control characters.', example: 'Acme Corp' }),
    alertEmails: AlertEmails.optional().meta({ description: 'Who receives reminders and notices (at most 20). Trusted as given: no confirmation email.' }),
    allowedScopes: AllowedScopes.optional(),
    leakResponse: LeakResponseSchema.optional(),
    firstKey: z
      .strictObject({
        name: Name.optional().meta({ description: 'Default "Initial key".' }),
        scopes: Scopes.optional().meta({ description: 'Default `keys:read keys:write`. The operator is not bound by delegation.' }),
        environment: EnvironmentSchema.optional().meta({ description: 'Default `live`.' }),
        expiresAt: NullableTimestamp.optional(),
      })
      .optional()
      .meta({ description: "Create the account's first key too; its secret is in the response, once." }),
  })
  .meta({ id: 'CreateAccountRequest' });

export const UpdateAccountBody = z
  .strictObject({
    name: Name.optional(),
    alertEmails: AlertEmails.optional().meta({ description: 'Replaces the list; trusted as given.' }),
    allowedScopes: AllowedScopes.optional(),
    leakResponse: LeakResponseSchema.optional(),
  })
  .meta({ id: 'UpdateAccountRequest' });

export const PageQuery = z.strictObject({
  limit: z
    .string()
    .refine((v) => /^[1-9][0-9]{0,2}$/.test(v) && Number(v) <= 100, 'must be an integer from 1 to 100')
    .transform(Number)
    .optional()
    // A query value is a string on the wire; documented as what it means: an integer 1–100.
    .meta({ type: 'integer', minimum: 1, maximum: 100, default: 20 }),
  cursor: z.string().min(1).max(2048).optional(),
});

export const NoQuery = z.strictObject({});

export const UsageQuery = z.strictObject({
  from: Timestamp.optional().meta({ description: 'Start of the range (RFC 3339). Default: 24 h before `to`.' }),
  to: Timestamp.optional().meta({ description: 'End of the range (RFC 3339). Default: now. At most 7 days after `from`. Every minute that overlaps the range is answered.' }),
});

// ---- responses ------------------------------------------------------------------------------

export const UseOriginView = z
  .object({
    ip: z.string().nullable().meta({ description: 'Source address API Gateway saw.' }),
    userAgent: z.string().nullable().meta({ description: 'User agent, without control characters, at most 512 characters.' }),
  })
  .meta({ id: 'UseOrigin', description: 'Where the last recorded use came from; null when unknown (e.g. a TOKEN authorizer event).' });

export const SecretView = z
  .object({
    hint: z.string().meta({ example: 'rekey_live_…9fQa' }),
    createdAt: Timestamp,
    expiresAt: NullableTimestamp,
    lastUsedAt: NullableTimestamp,
    lastUsedFrom: UseOriginView.nullable(),
  })
  .meta({ id: 'Secret' });

export const IdleCutoverView = z
  .object({
    expireWhenIdleSeconds: z.int(),
    at: NullableTimestamp.meta({ description: 'When the old secret expires (or expired) by idle cut-over; null until the new secret has been used.' }),
  })
  .meta({ id: 'IdleCutover' });

export const RotationView = z
  .object({
    id: z.string(),
    state: z.enum(['in_progress', 'completed', 'cancelled']),
    startedAt: Timestamp,
    oldKeyExpiresAt: Timestamp,
    oldKeyHint: z.string(),
    oldKeyLastUsedAt: NullableTimestamp,
    oldKeyLastUsedFrom: UseOriginView.nullable(),
    reminderAt: NullableTimestamp,
    restorableUntil: NullableTimestamp,
    cancelledAt: NullableTimestamp.meta({ description: 'When the rotation was cancelled; null unless `state` is `cancelled`.' }),
    newKeyExpiresAt: NullableTimestamp.meta({
      description:
        'After a cancel: until when the secret this rotation issued still works (it is `previousSecret`; a new rotation waits for it to end, and `PATCH …/rotation` with 0 ends it now). Null when it no longer works.',
    }),
    idleCutover: IdleCutoverView.nullable(),
  })
  .meta({ id: 'Rotation' });

export const KeyView = z
  .object({
    id: z.string(),
    name: z.string(),
    environment: EnvironmentSchema,
    scopes: z.array(z.string()),
    status: z.enum(['active', 'revoked', 'expired']),
    createdAt: Timestamp,
    expiresAt: NullableTimestamp,
    lastUsedAt: NullableTimestamp,
    lastRotatedAt: NullableTimestamp,
    revokedAt: NullableTimestamp,
    reactivatableUntil: NullableTimestamp,
    revokedReason: z
      .enum(['exposed'])
      .nullable()
      .meta({ description: '`exposed` when a leak report revoked the key (it cannot be reactivated); otherwise `null`.' }),
    currentSecret: SecretView,
    previousSecret: SecretView.nullable(),
    rotation: RotationView.nullable(),
    contacts: z.array(z.string()).meta({ description: "Confirmed addresses that receive this key's reminders and notices besides the account's alert emails." }),
    pendingEmails: z.array(z.string()).meta({
      description: 'Contacts added through the API that have not confirmed yet: they got a confirmation link and receive nothing else until they confirm.',
    }),
  })
  .meta({ id: 'Key' });

export const ActorView = z
  .object({
    type: z.enum(['key', 'operator', 'system']),
    id: z.string().nullable().meta({ description: 'The key id, the IAM principal ARN (or `local-operator`), or `null` for the system.' }),
  })
  .meta({ id: 'Actor' });

export const EventView = z
  .object({
    id: z.string(),
    type: z.string(),
    at: Timestamp,
    actorKeyId: z.string().nullable().meta({ description: 'The acting key, `null` for the operator and the system.' }),
    actor: ActorView,
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Event' });

export const AccountView = z
  .object({
    id: z.string(),
    name: z.string(),
    status: AccountStatusSchema,
    alertEmails: z.array(z.string()),
    allowedScopes: z.array(z.string()).meta({
      description:
        "Consumer scopes the account's keys may be given beyond those the giving key holds (set by the operator). Literal strings: `*` has no pattern meaning.",
    }),
    leakResponse: LeakResponseSchema,
    pendingEmails: z.array(z.string()).meta({
      description: 'Addresses added through the API that have not confirmed yet: they got a confirmation link and receive nothing else until they confirm.',
    }),
    createdAt: Timestamp,
  })
  .meta({ id: 'Account' });

export const EmailConfirmationResponse = z
  .object({
    email: z.string(),
    confirmed: z.boolean().meta({ description: "Whether the address is on its list now (the account's alert emails, or the key's contacts)." }),
    reason: z
      .enum(['list_full', 'withdrawn'])
      .optional()
      .meta({
        description:
          'Only when not confirmed. `list_full`: the list already holds its maximum (20 alert emails, 5 contacts); the link keeps working until it expires, so it adds the address once there is room. `withdrawn`: the address is no longer asked for (removed or replaced since).',
      }),
  })
  .meta({ id: 'EmailConfirmation' });

export const KeyResponse = z.object({ key: KeyView }).meta({ id: 'KeyResponse' });
export const KeyWithSecretResponse = z
  .object({
    key: KeyView,
    secret: z.string().meta({
      description:
        'The full secret. Shown once; store it now. Layout: prefix, environment, key id (16 random characters and a 6-character tag), 43 random characters and a 6-character checksum.',
      pattern: '^[a-z][a-z0-9]{0,15}_(live|test)_[0-9A-Za-z]{22}_[0-9A-Za-z]{49}$',
      example: 'rekey_live_4fPq0aZ8mN2xL7cQIdhZW2_EblwnUH1j7hoIpMkIxglfsHNPvwZiFoTqfwvR5lu1WH0VSqX7',
    }),
  })
  .meta({ id: 'KeyWithSecretResponse' });
export const KeyListResponse = z.object({ keys: z.array(KeyView), nextCursor: z.string().nullable() }).meta({ id: 'KeyList' });
export const EventListResponse = z.object({ events: z.array(EventView), nextCursor: z.string().nullable() }).meta({ id: 'EventList' });
export const AccountResponse = z.object({ account: AccountView }).meta({ id: 'AccountResponse' });
export const CreatedAccountResponse = z
  .object({
    account: AccountView,
    key: KeyView.optional().meta({ description: 'The first key, when `firstKey` was given.' }),
    secret: z.string().optional().meta({ description: "The first key's secret. Shown once; store it now." }),
  })
  .meta({ id: 'CreatedAccountResponse' });
export const AccountListResponse = z.object({ accounts: z.array(AccountView), nextCursor: z.string().nullable() }).meta({ id: 'AccountList' });
export const WhoamiResponse = z
  .object({
    keyId: z.string(),
    accountId: z.string(),
    environment: EnvironmentSchema,
    scopes: z.array(z.string()),
    slot: z.enum(['current', 'previous']),
    secretExpiresAt: NullableTimestamp,
  })
  .meta({ id: 'Whoami' });
export const UsageResponse = z
  .object({
    secrets: z.array(
      z.object({
        hint: z.string(),
        slot: z.enum(['current', 'previous', 'retired']),
        minutes: z.array(z.object({ at: Timestamp.meta({ description: 'Start of the minute.' }), count: z.int() })),
      }),
    ),
  })
  .meta({ id: 'Usage', description: 'Verified requests per secret per minute; minutes without requests are left out.' });

// ---- leaks (SPEC §11) ------------------------------------------------------------------------

/** The most secrets one `POST /v1/leaks` may carry. */
export const MAX_LEAK_REPORT_SECRETS = 100;
/** The most tokens one GitHub secret scanning batch may carry. */
export const MAX_GITHUB_BATCH = 1000;

// Anything longer than any secret of any deployment is not one; bounded so a report stays cheap.
const ReportedSecret = z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters');

export const LeakReportBody = z
  .strictObject({
    secrets: z
      .array(ReportedSecret)
      .min(1, 'must name at least one secret')
      .max(MAX_LEAK_REPORT_SECRETS, `at most ${MAX_LEAK_REPORT_SECRETS} secrets`)
      .meta({ description: 'The leaked secrets, as found.' }),
  })
  .meta({ id: 'LeakReportRequest' });

export const LeakOutcome = z.enum(['revoked', 'previous_expired', 'notified', 'unknown']).meta({
  description:
    '`revoked`: the key is revoked; `previous_expired`: that (rotated-out) secret stopped working; `notified`: the account was told and chose to act itself; ' +
    '`unknown`: not a secret this deployment knows as valid. A secret reported again answers what was done the first time.',
});

export const LeakReportResponse = z
  .object({
    results: z.array(z.object({ hint: z.string().meta({ example: 'rekey_live_…9fQa' }), outcome: LeakOutcome })),
  })
  .meta({ id: 'LeakReportResponse' });

// GitHub may add fields to its payload: unknown ones are ignored, not refused.
export const GithubSecretScanningBody = z
  .array(
    z.object({
      token: z.string().max(1024),
      type: z.string().max(256),
      url: z.string().max(4096).nullable().optional(),
      source: z.string().max(256).nullable().optional(),
    }),
  )
  .max(MAX_GITHUB_BATCH, `at most ${MAX_GITHUB_BATCH} tokens`)
  .meta({ id: 'GithubSecretScanningRequest' });

export const GithubSecretScanningResponse = z
  .array(
    z.object({
      token_hash: z.string().meta({ description: 'Hex SHA-256 of the token.' }),
      token_type: z.string(),
      label: z.enum(['true_positive', 'false_positive']),
    }),
  )
  .meta({ id: 'GithubSecretScanningFeedback' });

export const OpenApiResponse = z.record(z.string(), z.unknown()).meta({ id: 'OpenApiDocument' });

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      requestId: z.string(),
      details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

// ---- webhooks (SPEC §10) ---------------------------------------------------------------------

const EventTypes = z
  .array(z.enum(PUBLISHED_EVENT_TYPES))
  .min(1, 'must name at least one event type')
  .max(PUBLISHED_EVENT_TYPES.length * 2)
  .meta({ description: 'Event types sent to the endpoint. Defaults to all `api_key.*` types.' });
const WebhookUrl = z
  .string()
  .min(1)
  .max(2048, 'must be at most 2048 characters')
  .meta({ description: 'https:// URL with a public host (local mode also http://127.0.0.1:<port> and http://localhost:<port>).', example: 'https://hooks.example.com/rekey' });
const Description = z
  .string()
  .max(256, 'must be at most 256 characters')
  .regex(/^[^\p{Cc}\p{Cs}\u2028\u2029\u202A-\u202E\u2066-\u2069]*$/u, 'must not contain control characters');

export const CreateWebhookBody = z
  .strictObject({
    url: WebhookUrl,
    eventTypes: EventTypes.optional(),
    description: Description.optional(),
    environment: EnvironmentSchema.optional().meta({ description: "Which keys' events it receives. Defaults to the caller's environment." }),
  })
  .meta({ id: 'CreateWebhookRequest' });

export const UpdateWebhookBody = z
  .strictObject({
    url: WebhookUrl.optional(),
    eventTypes: EventTypes.optional(),
    description: Description.optional(),
    enabled: z.boolean().optional().meta({ description: '`true` re-enables an endpoint rekey disabled; `false` pauses it.' }),
  })
  .meta({ id: 'UpdateWebhookRequest' });

export const RotateWebhookSecretBody = z
  .strictObject({
    oldSecretExpiresInSeconds: Seconds('How long the old signing secret keeps signing, from now. Default 86400; 0 = at once; at most the deployment maximum.').optional(),
  })
  .meta({ id: 'RotateWebhookSecretRequest' });

export const WebhookView = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    environment: EnvironmentSchema,
    eventTypes: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: z.enum(['gone', 'failing', 'user']).nullable(),
    signingSecretHints: z.array(z.string()).meta({ description: 'Hints of the signing secrets in use, current first.' }),
    createdAt: Timestamp,
  })
  .meta({ id: 'Webhook' });

export const DeliveryView = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.array(
      z.object({ at: Timestamp, statusCode: z.int().nullable(), error: z.string().nullable(), durationMs: z.int() }),
    ),
    nextAttemptAt: NullableTimestamp,
    createdAt: Timestamp,
  })
  .meta({ id: 'WebhookDelivery' });

export const WebhookResponse = z.object({ webhook: WebhookView }).meta({ id: 'WebhookResponse' });
export const WebhookWithSecretResponse = z
  .object({ webhook: WebhookView, signingSecret: z.string().meta({ description: 'The whsec_ signing secret. Shown once; store it now.' }) })
  .meta({ id: 'WebhookWithSecretResponse' });
export const WebhookListResponse = z.object({ webhooks: z.array(WebhookView) }).meta({ id: 'WebhookList' });
export const DeliveryListResponse = z.object({ deliveries: z.array(DeliveryView), nextCursor: z.string().nullable() }).meta({ id: 'WebhookDeliveryList' });
export const TestDeliveryResponse = z.object({ deliveryId: z.string() }).meta({ id: 'WebhookTestResponse' });

export type KeyViewT = z.infer<typeof KeyView>;
export type WebhookViewT = z.infer<typeof WebhookView>;
export type DeliveryViewT = z.infer<typeof DeliveryView>;
export type EventViewT = z.infer<typeof EventView>;
export type AccountViewT = z.infer<typeof AccountView>;
