// The admin API (`/phone/admin/…`, docs/admin-console.md): the org's directory, one record at a
// time with its ETag, and the audit log. Every write carries a precondition, so a save can never
// overwrite what another admin saved after this page read the record: the server answers 412
// and the page offers to reload instead.

import { apiBaseUrl } from '../session.js';
import type { AuditPage } from './audit-text.js';
import type { Kind, OrgDirectory, RecordOf } from './model.js';

/** One reason the directory would not be valid: `{ path: "groups[0].members[1]", message }`. */
export interface Problem {
  path: string;
  message: string;
}

export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** 400 `invalid_directory`: every problem, each with its path. */
    readonly problems: Problem[] = [],
    /** 409 `conflict` on a delete: what still refers to the record (`phone:phone-sales`, `group:grp-sales`). */
    readonly referencedBy: string[] = [],
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

/** A record and the ETag it was read (or stored) with. */
export interface Versioned<T> {
  record: T;
  etag: string;
}

/** A replace names the version it replaces; a create says there must be none. */
export type Precondition = { ifMatch: string } | { ifNoneMatch: '*' };

/** `/phone/admin/users/frank@example.com`: `@` is allowed in a path segment, so an email stays readable. */
export function recordPath(kind: Kind, key: string): string {
  return `/phone/admin/${kind}/${encodeURIComponent(key).replaceAll('%40', '@')}`;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

function problems(value: unknown): Problem[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((p: unknown) => {
    const { path, message } = (p ?? {}) as Record<string, unknown>;
    return typeof message === 'string' ? [{ path: typeof path === 'string' ? path : '', message }] : [];
  });
}

/** The service's `{"error": {code, message, …}}`; `problems` and `referencedBy` read from either level. */
function errorOf(status: number, statusText: string, data: unknown): AdminError {
  const body = (data ?? {}) as Record<string, unknown>;
  const error = (body.error ?? {}) as Record<string, unknown>;
  const code = typeof error.code === 'string' ? error.code : `http_${status}`;
  const message = typeof error.message === 'string' ? error.message : typeof body.message === 'string' ? body.message : statusText;
  return new AdminError(
    status,
    code,
    message,
    problems(error.problems ?? body.problems),
    strings(error.referencedBy ?? body.referencedBy),
  );
}

export class AdminApi {
  /** `token()`: the signed-in admin's app token, asked for before every request. */
  constructor(private readonly token: () => Promise<string>) {}

  directory(): Promise<Versioned<OrgDirectory>> {
    return this.versioned<OrgDirectory>('GET', '/phone/admin/directory');
  }

  get<K extends Kind>(kind: K, key: string): Promise<Versioned<RecordOf[K]>> {
    return this.versioned<RecordOf[K]>('GET', recordPath(kind, key));
  }

  put<K extends Kind>(kind: K, key: string, record: RecordOf[K], precondition: Precondition): Promise<Versioned<RecordOf[K]>> {
    const header: Record<string, string> = 'ifMatch' in precondition ? { 'If-Match': precondition.ifMatch } : { 'If-None-Match': '*' };
    return this.versioned<RecordOf[K]>('PUT', recordPath(kind, key), record, header);
  }

  async remove(kind: Kind, key: string, etag: string): Promise<void> {
    await this.send('DELETE', recordPath(kind, key), undefined, { 'If-Match': etag });
  }

  async audit(before: string | null, limit = 20): Promise<AuditPage> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before) query.set('before', before);
    const { data } = await this.send('GET', `/phone/admin/audit?${query}`);
    const page = (data ?? {}) as Partial<AuditPage>;
    return { entries: page.entries ?? [], cursor: page.cursor ?? null };
  }

  private async versioned<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Versioned<T>> {
    const { data, etag } = await this.send(method, path, body, headers);
    // Cross-origin, the ETag is readable only when the API exposes it (Access-Control-Expose-Headers).
    if (!etag) throw new AdminError(0, 'no_etag', 'The server did not say which version this is (no ETag header).');
    return { record: data as T, etag };
  }

  private async send(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<{ data: unknown; etag: string | null }> {
    const headers: Record<string, string> = { ...extra, Authorization: `Bearer ${await this.token()}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(apiBaseUrl + path, {
      method,
      headers,
      // Never a cached copy: an ETag must be the version the server has now.
      cache: 'no-store',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const data: unknown = response.status === 204 ? undefined : await response.json().catch(() => undefined);
    if (!response.ok) throw errorOf(response.status, response.statusText, data);
    return { data, etag: response.headers.get('ETag') };
  }
}
