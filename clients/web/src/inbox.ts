// The SMS inbox of the signed-in user (`presence.inbox`): their conversations and messages,
// their read marks, sending a text (idempotent: one clientMessageId per text, retried with the
// same one, so a retry never texts twice), and MMS media. Any tab may call it: it needs only
// the app token. The live side is the `sms.*` events (events.ts, sms.ts).

import { PATHS } from './api.js';
import type { ErrorBody } from './api.js';
import { backoffMs } from './backoff.js';
import type { Environment, HttpResponse } from './environment.js';
import type { ApiClient, Exchange } from './http.js';
import { MAX_SMS_CHARS } from './segments.js';
import type { ConversationsPage, MessagesPage, ReadMark, SmsMessage } from './sms.js';

/**
 * A request of the inbox that failed. `code` is the server's (`recipient_opted_out`,
 * `destination_refused`, `phone_not_assigned`, `invalid_field`, `twilio_unavailable`,
 * `not_found`, …) or the client's: `network` (no answer), `app_token` (getAppToken failed),
 * `aborted` (the caller's signal), `http_<status>` (an answer without a code).
 */
export class SmsError extends Error {
  override readonly name = 'SmsError';
  readonly code: string;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The request field at fault, with `invalid_field` (`body`, `to`, …). */
  readonly field: string | undefined;
  /** How long the server asked to wait (`Retry-After`), with 503 and 429. */
  readonly retryAfterMs: number | undefined;
  /** With `send`: the id the text was sent with. Pass it again to retry without texting twice. */
  clientMessageId: string | undefined;

  constructor(
    code: string,
    message: string,
    details: { status?: number; field?: string; retryAfterMs?: number; clientMessageId?: string } = {},
  ) {
    super(message);
    this.code = code;
    this.status = details.status;
    this.field = details.field;
    this.retryAfterMs = details.retryAfterMs;
    this.clientMessageId = details.clientMessageId;
  }
}

export interface PageOptions {
  /** The `cursor` of the previous page: the next, older one. */
  before?: string | null;
  limit?: number;
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
  constructor(
    private readonly env: Environment,
    private readonly api: ApiClient,
  ) {}

  /** The user's conversations on all their numbers, newest activity first, with their own unread counts. */
  conversations(options: PageOptions = {}): Promise<ConversationsPage> {
    return this.get(PATHS.smsConversations, page(options)) as Promise<ConversationsPage>;
  }

  /** One conversation's messages, newest first. */
  messages(phoneId: string, withParty: string, options: PageOptions = {}): Promise<MessagesPage> {
    return this.get(PATHS.smsMessages, { phoneId, with: withParty, ...page(options) }) as Promise<MessagesPage>;
  }

  /**
   * Move this user's read mark up to the message `upTo` (a messageSid; never back). Their other
   * devices hear `sms.read`; colleagues sharing the number keep their own count.
   */
  async markRead(phoneId: string, withParty: string, upTo: string): Promise<ReadMark> {
    return (await this.answer(await this.api.exchange('POST', PATHS.smsRead, { phoneId, with: withParty, upTo }))) as ReadMark;
  }

  /**
   * Text `to` from the number `phoneId`. Resolves to the stored message (also announced to
   * every user of the number as `sms.sent`). Rejects with an `SmsError`: `recipient_opted_out`
   * (409), `destination_refused` or `phone_not_assigned` (403), `invalid_field` with `field`
   * (400; an empty or too long body is refused here, without a request), or, once the tries
   * are used up, `twilio_unavailable` (503) or `network`.
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
        const exchange = await this.api.exchange('POST', PATHS.smsSend, { phoneId, to, body, clientMessageId });
        return (await this.answer(exchange)) as SmsMessage;
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
  async media(messageSid: string, index: number): Promise<Blob> {
    const exchange = await this.api.exchange('GET', withQuery(PATHS.smsMedia, { messageSid, index: String(index) }));
    if (exchange.kind === 'response' && ok(exchange.response)) return exchange.response.blob();
    throw await this.failure(exchange);
  }

  private async get(path: string, query: Record<string, string>): Promise<unknown> {
    return this.answer(await this.api.exchange('GET', withQuery(path, query)));
  }

  /** The JSON of a 2xx answer, else the `SmsError` it means. */
  private async answer(exchange: Exchange): Promise<unknown> {
    if (exchange.kind === 'response' && ok(exchange.response)) {
      const body = await exchange.response.json().catch(() => undefined);
      if (typeof body === 'object' && body !== null) return body;
      throw new SmsError('malformed_response', 'the service answered with no JSON object', { status: exchange.response.status });
    }
    throw await this.failure(exchange);
  }

  private async failure(exchange: Exchange): Promise<SmsError> {
    switch (exchange.kind) {
      case 'network':
        return new SmsError('network', 'the service could not be reached');
      case 'appToken':
        return new SmsError('app_token', exchange.message);
      case 'response': {
        const { status } = exchange.response;
        const body = (await exchange.response.json().catch(() => undefined)) as ErrorBody | undefined;
        const retryAfterMs = this.api.retryAfter(exchange.response);
        return new SmsError(body?.error?.code ?? `http_${status}`, body?.error?.message ?? body?.message ?? `HTTP ${status}`, {
          status,
          ...(body?.error?.field ? { field: body.error.field } : {}),
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        });
      }
    }
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

function ok(response: HttpResponse): boolean {
  return response.status >= 200 && response.status < 300;
}

/** Worth trying again with the same clientMessageId: the text may or may not be on its way. */
function retriable(error: SmsError): boolean {
  if (error.code === 'network' || error.code === 'send_in_progress') return true;
  const status = error.status ?? 0;
  // 502 is Twilio refusing the text for good.
  return status === 408 || status === 429 || (status >= 500 && status !== 502);
}

function page({ before, limit }: PageOptions): Record<string, string> {
  return { ...(before ? { before } : {}), ...(limit !== undefined ? { limit: String(limit) } : {}) };
}

function withQuery(path: string, query: Record<string, string>): string {
  const search = new URLSearchParams(query).toString();
  return search ? `${path}?${search}` : path;
}
