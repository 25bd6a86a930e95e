// The data requests of the library (the SMS inbox, the call history): a request with the app
// token, and how the service's answer becomes a value or a typed error. One rule for both, so
// that an error names the server's code, field and Retry-After the same way everywhere.

import type { ErrorBody } from './api.js';
import type { HttpResponse } from './environment.js';
import type { ApiClient, Exchange, Method } from './http.js';

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
export class ServiceError extends Error {
  override readonly name: string = 'ServiceError';
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

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(message);
    this.code = code;
    this.status = details.status;
    this.field = details.field;
    this.reason = details.reason;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** Makes the error class of one part of the library (`SmsError`, `CallsError`). */
export type ErrorMaker<E extends ServiceError> = (code: string, message: string, details: ErrorDetails) => E;

/** `before` and `limit` of a paged list. */
export interface PageOptions {
  /** The `cursor` of the previous page: the next, older one. */
  before?: string | null;
  limit?: number;
}

export function pageQuery({ before, limit }: PageOptions): Record<string, string> {
  return { ...(before ? { before } : {}), ...(limit !== undefined ? { limit: String(limit) } : {}) };
}

export function withQuery(path: string, query: Record<string, string>): string {
  const search = new URLSearchParams(query).toString();
  return search ? `${path}?${search}` : path;
}

function ok(response: HttpResponse): boolean {
  return response.status >= 200 && response.status < 300;
}

export class DataRequests<E extends ServiceError> {
  constructor(
    private readonly api: ApiClient,
    private readonly make: ErrorMaker<E>,
  ) {}

  /** The JSON object a 2xx answer carries; else rejects with the error it means. */
  async json(method: Method, path: string, body?: object): Promise<unknown> {
    return this.answer(await this.api.exchange(method, path, body));
  }

  /** The file a 2xx answer carries, with its type; else rejects with the error it means. */
  async blob(path: string): Promise<Blob> {
    const exchange = await this.api.exchange('GET', path);
    if (exchange.kind === 'response' && ok(exchange.response)) return exchange.response.blob();
    throw await this.failure(exchange);
  }

  private async answer(exchange: Exchange): Promise<unknown> {
    if (exchange.kind === 'response' && ok(exchange.response)) {
      const body = await exchange.response.json().catch(() => undefined);
      if (typeof body === 'object' && body !== null) return body;
      throw this.make('malformed_response', 'the service answered with no JSON object', { status: exchange.response.status });
    }
    throw await this.failure(exchange);
  }

  private async failure(exchange: Exchange): Promise<E> {
    switch (exchange.kind) {
      case 'network':
        return this.make('network', 'the service could not be reached', {});
      case 'appToken':
        return this.make('app_token', exchange.message, {});
      case 'response': {
        const { status } = exchange.response;
        const body = (await exchange.response.json().catch(() => undefined)) as ErrorBody | undefined;
        const retryAfterMs = this.api.retryAfter(exchange.response);
        return this.make(body?.error?.code ?? `http_${status}`, body?.error?.message ?? body?.message ?? `HTTP ${status}`, {
          status,
          ...(body?.error?.field ? { field: body.error.field } : {}),
          ...(body?.error?.reason ? { reason: body.error.reason } : {}),
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        });
      }
    }
  }
}
