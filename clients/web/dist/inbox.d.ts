import type { Environment } from './environment.js';
import type { ApiClient } from './http.js';
import type { ConversationsPage, MessagesPage, ReadMark, SmsMessage } from './sms.js';
/**
 * A request of the inbox that failed. `code` is the server's (`recipient_opted_out`,
 * `destination_refused`, `phone_not_assigned`, `invalid_field`, `twilio_unavailable`,
 * `not_found`, …) or the client's: `network` (no answer), `app_token` (getAppToken failed),
 * `aborted` (the caller's signal), `http_<status>` (an answer without a code).
 */
export declare class SmsError extends Error {
    readonly name = "SmsError";
    readonly code: string;
    /** The HTTP status, when the server answered. */
    readonly status: number | undefined;
    /** The request field at fault, with `invalid_field` (`body`, `to`, …). */
    readonly field: string | undefined;
    /** How long the server asked to wait (`Retry-After`), with 503 and 429. */
    readonly retryAfterMs: number | undefined;
    /** With `send`: the id the text was sent with. Pass it again to retry without texting twice. */
    clientMessageId: string | undefined;
    constructor(code: string, message: string, details?: {
        status?: number;
        field?: string;
        retryAfterMs?: number;
        clientMessageId?: string;
    });
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
export declare class SmsInbox {
    private readonly env;
    private readonly api;
    constructor(env: Environment, api: ApiClient);
    /** The user's conversations on all their numbers, newest activity first, with their own unread counts. */
    conversations(options?: PageOptions): Promise<ConversationsPage>;
    /** One conversation's messages, newest first. */
    messages(phoneId: string, withParty: string, options?: PageOptions): Promise<MessagesPage>;
    /**
     * Move this user's read mark up to the message `upTo` (a messageSid; never back). Their other
     * devices hear `sms.read`; colleagues sharing the number keep their own count.
     */
    markRead(phoneId: string, withParty: string, upTo: string): Promise<ReadMark>;
    /**
     * Text `to` from the number `phoneId`. Resolves to the stored message (also announced to
     * every user of the number as `sms.sent`). Rejects with an `SmsError`: `recipient_opted_out`
     * (409), `destination_refused` or `phone_not_assigned` (403), `invalid_field` with `field`
     * (400; an empty or too long body is refused here, without a request), or, once the tries
     * are used up, `twilio_unavailable` (503) or `network`.
     */
    send(phoneId: string, to: string, body: string, options?: SendOptions): Promise<SmsMessage>;
    /** A file of an MMS (`message.media[i].index`), fetched through the service with the app token. */
    media(messageSid: string, index: number): Promise<Blob>;
    private get;
    /** The JSON of a 2xx answer, else the `SmsError` it means. */
    private answer;
    private failure;
    private sleep;
}
