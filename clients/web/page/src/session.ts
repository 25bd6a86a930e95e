// The settings page's connection to the local server: where the API is, the demo sign-in (a
// session kept in localStorage, which every tab of the browser shares, the admin console's too),
// and JSON requests.

export interface DemoUser {
  email: string;
  orgId: string;
  name?: string;
  /** Signed in as an admin of the org (the development admin role): the admin console works. */
  admin?: boolean;
}

export interface Session extends DemoUser {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

const SESSION_KEY = 'softphone.demoSession';

const params = new URLSearchParams(location.search);
/** `?device=fake` or `fake-offline`: a stand-in Twilio Device (tests and demos). */
export const deviceMode = params.get('device');
/**
 * `?api=URL`, else `<meta name="softphone-api" content="URL">` (a page hosted apart from the
 * API, such as the admin console on a static host): another API than this page's origin (it
 * must allow the origin in CORS). Without either, the page's own origin (the local server).
 */
export const apiBaseUrl = (
  params.get('api') ?? document.querySelector<HTMLMetaElement>('meta[name="softphone-api"]')?.content ?? location.origin
).replace(/\/+$/, '');

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(apiBaseUrl + path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const data = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = data?.error ?? {};
    throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? data?.message ?? response.statusText);
  }
  return data as T;
}

/** A request as the signed-in user. */
export async function authorized<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  return request<T>(method, path, body, await getAppToken({ refresh: false }));
}

function loadSession(): Session | null {
  try {
    const stored = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return stored?.token ? stored : null;
  } catch {
    return null;
  }
}

let current = loadSession();

/** The signed-in user of this page, if any. */
export function session(): Session | null {
  return current;
}

/** `user.admin`: a token with the admin role, kept when the token is renewed. */
export async function signInAs(user: DemoUser): Promise<Session> {
  const { token, expiresIn } = await request<{ token: string; expiresIn: number }>('POST', '/dev/sign-in', {
    email: user.email,
    orgId: user.orgId,
    ...(user.admin ? { admin: true } : {}),
  });
  current = {
    email: user.email,
    orgId: user.orgId,
    ...(user.name ? { name: user.name } : {}),
    ...(user.admin ? { admin: true } : {}),
    token,
    expiresAt: Date.now() + expiresIn * 1000,
  };
  localStorage.setItem(SESSION_KEY, JSON.stringify(current));
  return current;
}

export function forgetSession(): void {
  current = null;
  localStorage.removeItem(SESSION_KEY);
}

/** The app token for SoftphonePresence: the demo server signs a fresh one when asked to refresh. */
export async function getAppToken({ refresh }: { refresh: boolean }): Promise<string> {
  // localStorage, not memory: another tab may have signed out or refreshed the token.
  const stored = loadSession();
  if (!stored) throw new Error('not signed in');
  if (refresh || stored.expiresAt - Date.now() < 60_000) return (await signInAs(stored)).token;
  return stored.token;
}

/** Another tab signed in as someone else, or out: `changed()` (the page reloads); a refreshed token is taken over. */
export function followOtherTabs(changed: () => void): void {
  window.addEventListener('storage', (event) => {
    if (event.key !== SESSION_KEY) return;
    const next = loadSession();
    // The admin role too: the page shows the admin console's link (settings) or its controls (admin) by it.
    if (!next || !current || next.email !== current.email || next.orgId !== current.orgId || next.admin !== current.admin) changed();
    else current = next;
  });
}

/**
 * The directory's users, from the local server's `GET /dev/users`, as the options of the
 * sign-in `select` (each option's value its index in the list returned).
 */
export async function loadDemoUsers(select: HTMLSelectElement): Promise<DemoUser[]> {
  const { users } = await request<{ users: DemoUser[] }>('GET', '/dev/users');
  select.replaceChildren(
    ...users.map((user, index) => {
      const option = document.createElement('option');
      option.value = String(index);
      option.textContent = `${user.name ? `${user.name} — ` : ''}${user.email} (${user.orgId})`;
      return option;
    }),
  );
  return users;
}
