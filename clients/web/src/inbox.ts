// The SMS inbox of the signed-in user (`presence.inbox`): their conversations and messages,
// their read marks, sending a text (idempotent: one clientMessageId per text, retried with the
// same one, so a retry never texts twice), and MMS media. Any tab may call it: it needs only
// the app token. The live side is the `sms.*` events (events.ts, sms.ts).

import { PATHS } from './api.js';
import { backoffMs } from './backoff.js';
import type { Environment } from './environment.js';
import type { ApiClient } from './http.js';
import { DataRequests, ServiceError, pageQuery, withQuery } from './requests.js';
import type { ErrorDetails, PageOptions } from './requests.js';
import { MAX_SMS_CHARS } from './segments.js';
import type { ConversationsPage, MessagesPage, ReadMark, SmsMessage } from './sms.js';

export type { PageOptions } from './requests.js';

/**
 * A request of the inbox that failed. Beside the codes of every `ServiceError`, the server's
 * `recipient_opted_out`, `destination_not_allowed` (with `reason`), `destination_refused`,
 * `phone_not_assigned`, `send_in_progress`, `rate_limited` (with `reason`), and the client's
 * `aborted` (the caller's signal).
 */
export class SmsError extends ServiceError {
  override readonly name = 'SmsError';
  /** With `send`: the id the text was sent with. Pass it again to retry without texting twice. */
  clientMessageId: string | undefined;

  constructor(code: string, message: string, details: ErrorDetails & { clientMessageId?: string } = {}) {
    super(code, message, details);
    this.clientMessageId = details.clientMessageId;
  }
}

export interface SendOptions {
  /** The idempotency key; default a new UUID. Give the one of a failed send to retry that text. */
  clientMessageId?: string;
  /** Tries in all, over network errors, 408, 429, 5xx but 502 and `send_in_progress`. Default 4. */
  attempts?: number;
  /** Stops waiting between tries (the error is `aborted`); a request on its way is not recalled. */
  signal?: AbortSignal;
}

const DEFAULT_ATTEMPTS = 4;
/** A Retry-After longer than this is not waited for: the error goes to the caller. */
const MAX_RETRY_AFTER_MS = 60_000;

export class SmsInbox {
  private readonly requests: DataRequests<SmsError>;

  constructor(
    private readonly env: Environment,
    api: ApiClient,
  ) {
    this.requests = new DataRequests(api, (code, message, details) => new SmsError(code, message, details));
  }

  /** The user's conversations on all their numbers, newest activity first, with their own unread counts. */
  conversations(options: PageOptions = {}): Promise<ConversationsPage> {
    return this.get(PATHS.smsConversations, pageQuery(options)) as Promise<ConversationsPage>;
  }

  /** One conversation's messages, newest first. */
  messages(phoneId: string, withParty: string, options: PageOptions = {}): Promise<MessagesPage> {
    return this.get(PATHS.smsMessages, { phoneId, with: withParty, ...pageQuery(options) }) as Promise<MessagesPage>;
  }

  /**
   * Move this user's read mark up to the message `upTo` (a messageSid; never back). Their other
   * devices hear `sms.read`; colleagues sharing the number keep their own count.
   */
  async markRead(phoneId: string, withParty: string, upTo: string): Promise<ReadMark> {
    return (await this.requests.json('POST', PATHS.smsRead, { phoneId, with: withParty, upTo })) as ReadMark;
  }

  /**
   * Text `to` from the number `phoneId`. Resolves to the stored message (also announced to
   * every user of the number as `sms.sent`). Rejects with an `SmsError`: `recipient_opted_out`
   * (409), `destination_not_allowed` (403, `reason` `region` or `premium`),
   * `destination_refused` or `phone_not_assigned` (403), `invalid_field` with `field` (400; an
   * empty or too long body is refused here, without a request), `rate_limited` (429, `reason`
   * `texts_per_minute` or `new_recipients_per_day`, when its Retry-After is longer than a
   * minute or the tries are used up), or, once the tries are used up, `twilio_unavailable`
   * (503) or `network`.
   */
  async send(phoneId: string, to: string, body: string, options: SendOptions = {}): Promise<SmsMessage> {
    const clientMessageId = options.clientMessageId ?? this.env.randomUUID();
    const characters = [...body].length;
    if (characters === 0 || characters > MAX_SMS_CHARS) {
      throw new SmsError('invalid_field', `body must be 1 to ${MAX_SMS_CHARS} characters`, { field: 'body', clientMessageId });
    }
    const attempts = Math.max(1, options.attempts ?? DEFAULT_ATTEMPTS);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await this.requests.json('POST', PATHS.smsSend, { phoneId, to, body, clientMessageId })) as SmsMessage;
      } catch (error) {
        if (!(error instanceof SmsError)) throw error;
        error.clientMessageId = clientMessageId;
        const wait = error.retryAfterMs ?? backoffMs(attempt, () => this.env.random());
        if (attempt >= attempts || !retriable(error) || wait > MAX_RETRY_AFTER_MS) throw error;
        // The same clientMessageId again: the server answers with the text if the first try sent it.
        await this.sleep(wait, options.signal, clientMessageId);
      }
    }
  }

  /** A file of an MMS (`message.media[i].index`), fetched through the service with the app token. */
  media(messageSid: string, index: number): Promise<Blob> {
    return this.requests.blob(withQuery(PATHS.smsMedia, { messageSid, index: String(index) }));
  }

  private get(path: string, query: Record<string, string>): Promise<unknown> {
    return this.requests.json('GET', withQuery(path, query));
  }

  private sleep(ms: number, signal: AbortSignal | undefined, clientMessageId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const aborted = () => new SmsError('aborted', 'the send was given up before it succeeded', { clientMessageId });
      if (signal?.aborted) {
        reject(aborted());
        return;
      }
      const timer = this.env.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        this.env.clearTimeout(timer);
        reject(aborted());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Worth trying again with the same clientMessageId: the text may or may not be on its way. */
function retriable(error: SmsError): boolean {
  if (error.code === 'network' || error.code === 'send_in_progress') return true;
  const status = error.status ?? 0;
  // 502 is Twilio refusing the text for good.
  return status === 408 || status === 429 || (status >= 500 && status !== 502);
}
