// Requests to the service with the app's sign-in token (asked for before every request; a 401
// is retried once with a refreshed one), and what an answer means to the lifecycle.

import type { ErrorBody } from './api.js';
import { retryAfterMs } from './backoff.js';
import type { Environment, HttpResponse } from './environment.js';
import type { Outcome } from './outcome.js';

export type GetAppToken = (context: { refresh: boolean }) => Promise<string>;

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** What one request came to before anyone read its body. */
export type Exchange =
  | { kind: 'response'; response: HttpResponse }
  /** No answer: the network, CORS, or the request aborted. */
  | { kind: 'network' }
  /** `getAppToken` rejected: nothing was sent. */
  | { kind: 'appToken'; message: string };

export class ApiClient {
  /** The last app token used, kept for `pagehide`, where nothing can be awaited. */
  lastToken: string | null = null;

  constructor(
    private readonly env: Environment,
    private readonly baseUrl: string,
    private readonly getAppToken: GetAppToken,
  ) {}

  /** A path of the API, or an absolute URL the server named (`presence.heartbeatUrl`) as is. */
  url(path: string): string {
    if (/^https?:\/\//.test(path)) return path;
    return this.baseUrl.replace(/\/+$/, '') + path;
  }

  /** A request with the app token; a 401 is retried once with a token asked for again. */
  async exchange(method: Method, path: string, body?: object, retryUnauthorized = true): Promise<Exchange> {
    let token: string;
    try {
      token = await this.getAppToken({ refresh: !retryUnauthorized });
    } catch (cause) {
      return { kind: 'appToken', message: `getAppToken failed: ${String(cause)}` };
    }
    this.lastToken = token;
    let response: HttpResponse;
    try {
      response = await this.env.fetch(
        this.url(path),
        body === undefined
          ? { method, headers: { Authorization: `Bearer ${token}` } }
          : {
              method,
              headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
              body: JSON.stringify(body),
            },
      );
    } catch {
      return { kind: 'network' };
    }
    if (response.status === 401 && retryUnauthorized) return this.exchange(method, path, body, false);
    return { kind: 'response', response };
  }

  /** The same request, as the lifecycle and the realtime channel act on it. */
  async request(method: 'GET' | 'POST', path: string, body?: object): Promise<Outcome> {
    const exchange = await this.exchange(method, path, body);
    switch (exchange.kind) {
      case 'appToken':
        return { kind: 'unauthorized', error: { code: 'app_token', message: exchange.message } };
      case 'network':
        return { kind: 'transient', reason: 'network' };
      case 'response':
        return this.classify(exchange.response);
    }
  }

  private async classify(response: HttpResponse): Promise<Outcome> {
    const { status } = response;
    const body = (await response.json().catch(() => undefined)) as ErrorBody | undefined;
    if (status >= 200 && status < 300) {
      return body === undefined ? { kind: 'transient', reason: 'malformed_response' } : { kind: 'ok', body };
    }
    const code = body?.error?.code ?? `http_${status}`;
    const message = body?.error?.message ?? body?.message ?? `HTTP ${status}`;
    if (status === 401) return { kind: 'unauthorized', error: { code: 'unauthorized', message, status } };
    if (status === 404 && code === 'device_not_registered') return { kind: 'notRegistered' };
    if (status === 410) return code === 'cursor_expired' ? { kind: 'cursorExpired' } : { kind: 'signedOut' };
    if (status === 408 || status === 429 || status >= 500) {
      return { kind: 'transient', reason: code, retryAfterMs: this.retryAfter(response) };
    }
    return { kind: 'fatal', error: { code, message, status } };
  }

  /** The answer's `Retry-After`, in milliseconds. */
  retryAfter(response: HttpResponse): number | undefined {
    return retryAfterMs(response.headers.get('Retry-After'), this.env.now());
  }
}
