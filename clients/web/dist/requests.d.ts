import type { ApiClient, Method } from './http.js';
export interface ErrorDetails {
    status?: number;
    field?: string;
    reason?: string;
    retryAfterMs?: number;
}
/**
 * A data request that failed. `code` is the server's (`invalid_field`, `not_found`,
 * `twilio_unavailable`, …) or the client's: `network` (no answer), `app_token` (getAppToken
 * failed), `malformed_response` (a 2xx without JSON), `http_<status>` (an answer without a code).
 */
export declare class ServiceError extends Error {
    readonly name: string;
    readonly code: string;
    /** The HTTP status, when the server answered. */
    readonly status: number | undefined;
    /** The request field at fault, with `invalid_field`. */
    readonly field: string | undefined;
    /**
     * Which rule refused: `region` or `premium` with `destination_not_allowed`;
     * `texts_per_minute` or `new_recipients_per_day` with `rate_limited`.
     */
    readonly reason: string | undefined;
    /** How long the server asked to wait (`Retry-After`), with 503 and 429. */
    readonly retryAfterMs: number | undefined;
    constructor(code: string, message: string, details?: ErrorDetails);
}
/** Makes the error class of one part of the library (`SmsError`, `CallsError`). */
export type ErrorMaker<E extends ServiceError> = (code: string, message: string, details: ErrorDetails) => E;
/** `before` and `limit` of a paged list. */
export interface PageOptions {
    /** The `cursor` of the previous page: the next, older one. */
    before?: string | null;
    limit?: number;
}
export declare function pageQuery({ before, limit }: PageOptions): Record<string, string>;
export declare function withQuery(path: string, query: Record<string, string>): string;
export declare class DataRequests<E extends ServiceError> {
    private readonly api;
    private readonly make;
    constructor(api: ApiClient, make: ErrorMaker<E>);
    /** The JSON object a 2xx answer carries; else rejects with the error it means. */
    json(method: Method, path: string, body?: object): Promise<unknown>;
    /** The file a 2xx answer carries, with its type; else rejects with the error it means. */
    blob(path: string): Promise<Blob>;
    private answer;
    private failure;
}
