/**
 * One dynalite world with the real route handlers for a whole test file, for tests that go through
 * the HTTP handlers and read the emails the world's mailer recorded (verified recipients, key
 * contacts): started before the file's tests, the runtime set for the handlers, the recorded mails
 * cleared before each test, everything closed after.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { EmailMessage } from '../../shared/domain/ports.js';
import { setRuntime } from '../../shared/runtime.js';
import { callRoute, loadRouteHandlers, type EventInit, type RouteHandlers } from './apigw.js';
import { createAccountWithKey, createWorld, type World } from './world.js';

export interface HandlerWorld {
  /** The world; set before the file's first test. */
  w: World;
  /** One request through the route's real handler. */
  call(init: EventInit): ReturnType<typeof callRoute>;
  /** A new account (named `name`) with its first management key, as its caller. */
  account(alertEmails: string[]): ReturnType<typeof createAccountWithKey>;
  /** The recorded emails addressed to `address`, oldest first. */
  mailsTo(address: string): EmailMessage[];
}

/** The token of the first confirmation link in `text`, if any. */
export const confirmationTokenIn = (text: string): string | undefined => /\/v1\/email-confirmations\/([A-Za-z0-9_-]{43})/.exec(text)?.[1];

/** Registers the file's hooks and returns the world's handle (its `w` is usable inside tests and hooks). */
export function useHandlerWorld(name: string): HandlerWorld {
  let handlers: RouteHandlers | undefined;
  const t: HandlerWorld = {
    w: undefined as unknown as World,
    call: (init) => {
      if (!handlers) throw new Error('the handlers are not loaded yet (call inside a test or hook)');
      return callRoute(handlers, init);
    },
    account: (alertEmails) => createAccountWithKey({ name, alertEmails }, t.w.rt),
    mailsTo: (address) => t.w.rec.mails.filter((m) => m.to.includes(address)),
  };
  beforeAll(async () => {
    t.w = await createWorld();
    setRuntime(t.w.rt);
    handlers = await loadRouteHandlers({ withPublic: true });
  });
  afterAll(async () => {
    setRuntime(undefined);
    await t.w?.close();
  });
  beforeEach(() => {
    t.w.rec.mails.length = 0;
  });
  return t;
}
