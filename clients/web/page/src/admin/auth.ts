// Who the admin console acts as. Two ways in:
// - the local server's development sign-in (`POST /dev/sign-in` with `admin: true`), the same
//   session as the settings page's (session.ts, localStorage): signing in on either page signs
//   this browser in on both, and someone signed in on the settings page without the admin role
//   opens this page as themselves (and is told they are not an admin);
// - a token pasted from the org's identity provider (a hosted console, docs/admin-console.md),
//   kept in sessionStorage only: it goes with the tab, and it cannot be renewed from here.

import { forgetSession, getAppToken, session } from '../session.js';

const PASTED_KEY = 'softphone.adminToken';

export interface Signed {
  email: string | null;
  orgId: string | null;
  name?: string;
  via: 'development' | 'token';
}

/** The claims of a JWT, read without checking it (the server checks; this only names who it is). */
function claims(token: string): Record<string, unknown> {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replaceAll('-', '+').replaceAll('_', '/').padEnd(Math.ceil(payload.length / 4) * 4, '='));
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

function pasted(): string | null {
  return sessionStorage.getItem(PASTED_KEY);
}

/** Who is signed in here, if anyone. */
export function signedIn(): Signed | null {
  const token = pasted();
  if (token) {
    const c = claims(token);
    return { email: text(c.email) ?? text(c.sub), orgId: text(c.orgId) ?? text(c.org_id), via: 'token' };
  }
  const current = session();
  if (!current) return null;
  return { email: current.email, orgId: current.orgId, ...(current.name ? { name: current.name } : {}), via: 'development' };
}

export function usePastedToken(token: string): void {
  sessionStorage.setItem(PASTED_KEY, token.trim().replace(/^Bearer\s+/i, ''));
}

/** Signed in with the development sign-in: a pasted token no longer counts. */
export function forgetPastedToken(): void {
  sessionStorage.removeItem(PASTED_KEY);
}

export function signOut(): void {
  forgetPastedToken();
  forgetSession();
}

/** The token for the next request (a development one is renewed by the local server when near its end). */
export async function adminToken(): Promise<string> {
  return pasted() ?? getAppToken({ refresh: false });
}
