export type SmsDirection = 'inbound' | 'outbound';
/** A file of an MMS; `media(messageSid, index)` fetches it. */
export interface SmsMedia {
    index: number;
    contentType: string;
}
/** A text, as the messages list, the events and send's answer show it. */
export interface SmsMessage {
    messageSid: string;
    direction: SmsDirection;
    from: string;
    to: string;
    body: string;
    media: SmsMedia[];
    /** How many SMS segments it took (Twilio's count for an inbound text, `segments(body)` for a sent one). */
    segments: number;
    /** `received` for an inbound text; `queued` … `delivered`, `undelivered`, `failed` for a sent one. */
    status: string;
    /** Twilio's error code of a failed or undelivered text (30003, 30007, …), else `null`. */
    errorCode: number | null;
    /** Received or sent, epoch milliseconds. */
    at: number;
    /** The email of the user who sent it from this service; `null` for inbound texts. */
    sentBy: string | null;
}
/** One of the user's numbers and one remote party, as `conversations()` shows it to this user. */
export interface SmsConversation {
    phoneId: string;
    phoneNumber: string;
    /** The remote party: an E.164 number, a short code or a sender id. */
    with: string;
    lastMessage: SmsMessage | null;
    /** Inbound texts after this user's read mark (each user has their own). */
    unread: number;
    /** The remote party replied STOP: texts to them are refused until they text START. */
    optedOut: boolean;
}
/** Which conversation an `sms.received` or `sms.sent` event is about. */
export interface SmsConversationRef {
    phoneId: string;
    phoneNumber: string;
    with: string;
    /** Only when this text changed it (STOP, START and the like). */
    optedOut?: boolean;
}
/** A page, newest first; `cursor` is `before` for the next (older) page, `null` on the last. */
export interface ConversationsPage {
    conversations: SmsConversation[];
    cursor: string | null;
}
export interface MessagesPage {
    messages: SmsMessage[];
    cursor: string | null;
}
/** `markRead`'s answer: what is left unread for this user. */
export interface ReadMark {
    phoneId: string;
    with: string;
    unread: number;
}
/** The `data` of the inbox's events. */
export interface SmsEventData {
    /** A text reached one of the user's numbers. */
    'sms.received': {
        conversation: SmsConversationRef;
        message: SmsMessage;
    };
    /** A user of one of the user's numbers (perhaps this user) sent a text from it. */
    'sms.sent': {
        conversation: SmsConversationRef;
        message: SmsMessage;
    };
    /** A sent text's delivery status moved forward. */
    'sms.status': {
        phoneId: string;
        with: string;
        messageSid: string;
        status: string;
        errorCode: number | null;
    };
    /** This user read a conversation up to `upTo` (on any of their devices). */
    'sms.read': {
        phoneId: string;
        with: string;
        upTo: string;
        unread: number;
    };
}
/** How far a status has come (the server's order); `undefined` for one it does not rank. */
export declare function statusRank(status: string): number | undefined;
/**
 * Whether `next` moves a message at `current` forward. Events and answers may come in any
 * order (an `sms.status` before send's answer, a catch-up repeating an old one): a status
 * applies only when it ranks higher, so a final status stays final.
 */
export declare function advancesStatus(current: string, next: string): boolean;
/** `message` with `update` applied if it moves it forward, else `message` itself. */
export declare function withStatus(message: SmsMessage, update: {
    status: string;
    errorCode: number | null;
}): SmsMessage;
/** Two copies of one message (from a page, an event, send's answer): the one furthest along. */
export declare function mergeMessage(known: SmsMessage | undefined, incoming: SmsMessage): SmsMessage;
