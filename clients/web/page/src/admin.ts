// The admin console (`GET /admin` of the local server, issue 30; docs/admin-console.md): an
// org's admins change its directory live, one record at a time: people, groups, numbers, with
// the audit log of every change. This file holds the sign-in and the wiring; the sections are
// in admin/. Someone who is not an admin of their org (403 from the directory) sees only that.
//
// Query parameters and tags:
//   ?api=URL, or <meta name="softphone-api" content="URL">: the API, when it is not this page's
//   origin (a console hosted on a static host; the API must allow the origin in CORS)

import { AdminApi, AdminError } from './admin/api.js';
import { adminToken, forgetPastedToken, signOut, signedIn, usePastedToken } from './admin/auth.js';
import type { Signed } from './admin/auth.js';
import { AuditSection } from './admin/audit.js';
import { DirectoryState } from './admin/directory.js';
import { GroupsSection } from './admin/groups.js';
import { NumbersSection } from './admin/numbers.js';
import { PeopleSection } from './admin/people.js';
import { $ } from './dom.js';
import { followOtherTabs, loadDemoUsers, signInAs } from './session.js';
import type { DemoUser } from './session.js';

const FACES = ['loading', 'load-error', 'sign-in', 'not-admin', 'console', 'account'];

const api = new AdminApi(adminToken);
const directory = new DirectoryState(api);
const audit = new AuditSection(api);

/** After every change stored here: the lists and the audit log as the server has them now. */
async function changed(): Promise<void> {
  await Promise.all([reloadDirectory(), audit.reload()]);
}

function signedOut(): void {
  signOut();
  void showSignIn('Your sign-in has expired or was refused. Sign in again.');
}

new PeopleSection(directory, api, changed, signedOut);
new GroupsSection(directory, api, changed, signedOut);
new NumbersSection(directory, api, changed, signedOut);

async function reloadDirectory(): Promise<void> {
  const error = $('console-error');
  try {
    await directory.reload();
    error.hidden = true;
  } catch (e) {
    if (e instanceof AdminError && e.status === 401) return signedOut();
    if (e instanceof AdminError && e.status === 403) return showNotAdmin(signedIn());
    error.textContent = `Cannot read the directory: ${(e as Error).message}`;
    error.hidden = false;
  }
}

// ── the page's faces: sign-in, not an admin, the console ───────────────────

function only(...shown: string[]): void {
  for (const id of FACES) $(id).hidden = !shown.includes(id);
}

function who(signed: Signed): string {
  if (signed.name && signed.email) return `${signed.name} <${signed.email}>`;
  return signed.email ?? 'a pasted token';
}

function showAccount(signed: Signed): void {
  $('account-name').textContent = who(signed);
  $('account-org').textContent = signed.orgId ? `(${signed.orgId})` : '';
}

function showNotAdmin(signed: Signed | null): void {
  only('not-admin', 'account');
  const org = signed?.orgId ? ` (${signed.orgId})` : '';
  $('not-admin-message').textContent =
    `You are not an admin of this org${org}: you cannot see or change its directory here. ` +
    'Ask an admin for the admin role, or switch to a user who has it.';
}

async function start(): Promise<void> {
  const signed = signedIn();
  if (!signed) return showSignIn();
  showAccount(signed);
  only('loading', 'account');
  try {
    await directory.reload();
  } catch (error) {
    if (error instanceof AdminError && error.status === 403) return showNotAdmin(signed);
    if (error instanceof AdminError && error.status === 401) return signedOut();
    only('load-error', 'account');
    $('load-error').textContent = `Cannot read the directory: ${(error as Error).message}`;
    return;
  }
  only('console', 'account');
  await audit.reload();
}

let usersByIndex: DemoUser[] = [];

async function showSignIn(message?: string): Promise<void> {
  only('sign-in');
  const error = $('sign-in-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  const select = $<HTMLSelectElement>('user-select');
  try {
    usersByIndex = await loadDemoUsers(select);
    $('dev-sign-in').hidden = false;
  } catch {
    // Not the local server (a hosted console): only a token of the identity provider signs in.
    $('dev-sign-in').hidden = true;
    $<HTMLDetailsElement>('token-sign-in').open = true;
  }
}

$<HTMLFormElement>('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const user = usersByIndex[Number($<HTMLSelectElement>('user-select').value)];
  if (!user) return;
  const button = $<HTMLButtonElement>('sign-in-button');
  button.disabled = true;
  forgetPastedToken();
  signInAs({ ...user, admin: true })
    .then(() => start())
    .catch((error: Error) => {
      const message = $('sign-in-error');
      message.textContent = `Sign-in failed: ${error.message}`;
      message.hidden = false;
    })
    .finally(() => {
      button.disabled = false;
    });
});

$<HTMLFormElement>('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('token-input');
  usePastedToken(input.value);
  input.value = '';
  void start();
});

$('switch-user').addEventListener('click', () => {
  signOut();
  void showSignIn();
});

$('reload-all').addEventListener('click', () => void changed());

// The settings page of the same API (its `?api=` carried over).
const apiParam = new URLSearchParams(location.search).get('api');
if (apiParam) $<HTMLAnchorElement>('settings-link').href = `/?api=${encodeURIComponent(apiParam)}`;

// Signed in or out in another tab (the settings page's session is this page's too).
followOtherTabs(() => location.reload());

void start();
