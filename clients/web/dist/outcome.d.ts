export interface PresenceError {
    /** The server's `error.code`, or `unauthorized`, `app_token`, `twilio_sdk`, `http_<status>`. */
    code: string;
    message: string;
    status?: number;
}
export type Outcome = {
    kind: 'ok';
    body: unknown;
} | {
    kind: 'notRegistered';
} | {
    kind: 'signedOut';
} | {
    kind: 'cursorExpired';
} | {
    kind: 'unauthorized';
    error: PresenceError;
} | {
    kind: 'transient';
    reason: string;
    retryAfterMs?: number;
} | {
    kind: 'fatal';
    error: PresenceError;
};
