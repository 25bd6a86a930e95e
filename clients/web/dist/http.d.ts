import type { Environment, HttpResponse } from './environment.js';
import type { Outcome } from './outcome.js';
export type GetAppToken = (context: {
    refresh: boolean;
}) => Promise<string>;
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
/** What one request came to before anyone read its body. */
export type Exchange = {
    kind: 'response';
    response: HttpResponse;
}
/** No answer: the network, CORS, or the request aborted. */
 | {
    kind: 'network';
}
/** `getAppToken` rejected: nothing was sent. */
 | {
    kind: 'appToken';
    message: string;
};
export declare class ApiClient {
    private readonly env;
    private readonly baseUrl;
    private readonly getAppToken;
    /** The last app token used, kept for `pagehide`, where nothing can be awaited. */
    lastToken: string | null;
    constructor(env: Environment, baseUrl: string, getAppToken: GetAppToken);
    /** A path of the API, or an absolute URL the server named (`presence.heartbeatUrl`) as is. */
    url(path: string): string;
    /** A request with the app token; a 401 is retried once with a token asked for again. */
    exchange(method: Method, path: string, body?: object, retryUnauthorized?: boolean): Promise<Exchange>;
    /** The same request, as the lifecycle and the realtime channel act on it. */
    request(method: 'GET' | 'POST', path: string, body?: object): Promise<Outcome>;
    private classify;
    /** The answer's `Retry-After`, in milliseconds. */
    retryAfter(response: HttpResponse): number | undefined;
}
