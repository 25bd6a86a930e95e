import type { Environment } from './environment.js';
import type { ApiClient } from './http.js';
import { ServiceError } from './requests.js';
import type { ErrorDetails, PageOptions } from './requests.js';
import type { ConversationsPage, MessagesPage, ReadMark, SmsMessage } from './sms.js';
export type { PageOptions } from './requests.js';
/**
 * A request of the inbox that failed. Beside the codes of every `ServiceError`, the server's
 * `recipient_opted_out`, `destination_not_allowed` (with `reason`), `destination_refused`,
 * `phone_not_assigned`, `send_in_progress`, `rate_limited` (with `reason`), and the client's
 * `aborted` (the caller's signal).
 */
export declare class SmsError extends ServiceError {
    readonly name = "SmsError";
    /** With `send`: the id the text was sent with. Pass it again to retry without texting twice. */
    clientMessageId: string | undefined;
    constructor(code: string, message: string, details?: ErrorDetails & {
        clientMessageId?: string;
    });
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
    private readonly requests;
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
     * (409), `destination_not_allowed` (403, `reason` `region` or `premium`),
     * `destination_refused` or `phone_not_assigned` (403), `invalid_field` with `field` (400; an
     * empty or too long body is refused here, without a request), `rate_limited` (429, `reason`
     * `texts_per_minute` or `new_recipients_per_day`, when its Retry-After is longer than a
     * minute or the tries are used up), or, once the tries are used up, `twilio_unavailable`
     * (503) or `network`.
     */
    send(phoneId: string, to: string, body: string, options?: SendOptions): Promise<SmsMessage>;
    /** A file of an MMS (`message.media[i].index`), fetched through the service with the app token. */
    media(messageSid: string, index: number): Promise<Blob>;
    private get;
    private sleep;
}
