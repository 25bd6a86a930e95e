// The settings page of the local server (`softphone-presence serve`, GET /): sign in as a user
// of the demo directory, then watch this browser's presence, the user's devices and numbers.
//
// Query parameters (for tests and demos):
//   ?device=fake          a stand-in Twilio Device that registers at once (nothing can reach Twilio)
//   ?device=fake-offline  a stand-in that fails as a Device does when Twilio is unreachable
//   ?api=URL              another API base URL than this page's origin (it must allow the origin in CORS)
import { SoftphonePresence } from '../../src/softphone-presence.js';
import type {
  AssignedPhone,
  DevicesResponse,
  PresenceState,
  StoredDevice,
  UserPhonesResponse,
} from '../../src/softphone-presence.js';
import { fakeDeviceClass } from './fake-device.js';

interface DemoUser {
  email: string;
  orgId: string;
  name?: string;
}

interface Session extends DemoUser {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

interface SimulatedCall {
  outcome: string;
  /** Why nobody rings, when nobody does. */
  reason?: string;
  ringing: string[];
  twiml: string;
}

const SESSION_KEY = 'softphone.demoSession';
const REFRESH_MS = 3_000;
/** A Device that has not registered with Twilio after this long is taken as cut off from it. */
const TWILIO_PATIENCE_MS = 10_000;

const params = new URLSearchParams(location.search);
const deviceMode = params.get('device');
const apiBaseUrl = (params.get('api') ?? location.origin).replace(/\/+$/, '');

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
};

// ── the API ─────────────────────────────────────────────────────────────────

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown, token?: string): Promise<T> {
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

// ── the signed-in user ──────────────────────────────────────────────────────

function loadSession(): Session | null {
  try {
    const session = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return session?.token ? session : null;
  } catch {
    return null;
  }
}

let session = loadSession();

async function signInAs(user: DemoUser): Promise<Session> {
  const { token, expiresIn } = await request<{ token: string; expiresIn: number }>('POST', '/dev/sign-in', {
    email: user.email,
    orgId: user.orgId,
  });
  session = { ...user, token, expiresAt: Date.now() + expiresIn * 1000 };
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** The app token for SoftphonePresence: the demo server signs a fresh one when asked to refresh. */
async function getAppToken({ refresh }: { refresh: boolean }): Promise<string> {
  // localStorage, not memory: another tab may have signed out or refreshed the token.
  const current = loadSession();
  if (!current) throw new Error('not signed in');
  if (refresh || current.expiresAt - Date.now() < 60_000) return (await signInAs(current)).token;
  return current.token;
}

// ── presence ────────────────────────────────────────────────────────────────

const presence = new SoftphonePresence({
  apiBaseUrl,
  getAppToken,
  capabilities: ['voice'],
  onSignInRequired: () => {
    log('The server refused the sign-in token: sign in again.');
    signedOutOfApp('Your sign-in has expired. Sign in again.');
  },
  ...(deviceMode === 'fake' || deviceMode === 'fake-offline' ? { Device: fakeDeviceClass(deviceMode) } : {}),
  deviceOptions: { appName: 'softphone-presence-settings', closeProtection: false, logLevel: 'warn' },
});

// A handle for the browser console and for browser tests.
(window as unknown as { softphone: unknown }).softphone = { presence };

const EXPLANATIONS: Record<PresenceState, string> = {
  starting: 'Registering this browser…',
  live: 'This browser is online for your calls.',
  reconnecting: 'The service does not answer; retrying. This browser stays listed until its presence expires.',
  signedOut: 'Signed out on this browser.',
  stopped: 'Presence is not running in this tab.',
};

let notRegisteredSince: number | null = null;

function renderPresence(): void {
  const state = presence.state;
  const badge = $('presence-state');
  badge.textContent = state;
  badge.dataset.state = state;
  $('presence-explanation').textContent = EXPLANATIONS[state];
  $('device-id').textContent = presence.deviceId;
  $('tab-role').textContent = presence.isLeader
    ? 'this tab (it runs the Twilio Device and the heartbeats)'
    : state === 'stopped'
      ? '—'
      : 'another tab of this browser (this one waits to take over)';
  $('signed-out').hidden = state !== 'signedOut';

  const twilio = presence.twilioStatus;
  const running = state === 'live' || state === 'reconnecting';
  const twilioText =
    twilio.state === 'registered'
      ? 'Registered: calls can ring this browser'
      : twilio.error
        ? 'Cannot reach Twilio'
        : twilio.state === 'registering'
          ? 'Registering with Twilio…'
          : twilio.state === 'unregistered'
            ? 'Not registered with Twilio'
            : 'No Twilio Device yet';
  const twilioElement = $('twilio-state');
  twilioElement.textContent = twilio.error ? `${twilioText} (${twilio.error.message})` : twilioText;
  twilioElement.dataset.twilio = twilio.state ?? 'none';

  if (running && twilio.state !== 'registered') notRegisteredSince ??= Date.now();
  else notRegisteredSince = null;
  const unreachable =
    running &&
    twilio.state !== 'registered' &&
    (twilio.error !== undefined || (notRegisteredSince !== null && Date.now() - notRegisteredSince > TWILIO_PATIENCE_MS));
  $('twilio-unreachable').hidden = !unreachable;
}

presence.on('state', ({ state, previous, reason }) => {
  renderPresence();
  log(`Presence: ${previous} → ${state}${reason ? ` (${reason})` : ''}`);
  if (state === 'live' || state === 'signedOut') void refreshDevices();
});
presence.on('leader', ({ leader }) => {
  renderPresence();
  if (leader) log('This tab now runs the softphone for this browser.');
});
const twilioErrorsLogged = new Set<string>();
presence.on('twilio', (status) => {
  renderPresence();
  // The SDK retries on its own and repeats the same errors: log each one once.
  if (status.error && !twilioErrorsLogged.has(status.error.message)) {
    twilioErrorsLogged.add(status.error.message);
    log(`Twilio: ${status.error.message}`);
  }
});
presence.on('device', () => twilioErrorsLogged.clear());
presence.on('registered', (registration) => {
  renderPhones(registration.assignedPhones);
  void refreshDevices();
});
presence.on('evicted', ({ deviceIds }) => log(`Signed out to make room: ${deviceIds.join(', ')}`));
presence.on('error', (error) => log(`Error: ${error.message} (${error.code})`));

// ── devices ─────────────────────────────────────────────────────────────────

const PLATFORMS: Record<string, string> = { web: 'Web', ios: 'iOS', android: 'Android' };

function ago(epochMs: number): string {
  const seconds = Math.max(0, Math.round((Date.now() - epochMs) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return new Date(epochMs).toLocaleString();
}

function deviceName(device: StoredDevice): string {
  return device.label ?? device.deviceId;
}

async function signOutDevice(device: StoredDevice, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    if (device.deviceId === presence.deviceId) {
      await presence.signOut();
    } else {
      await request('POST', '/phone/voice/unregister-device', { deviceId: device.deviceId, signOut: true }, await getAppToken({ refresh: false }));
    }
    log(`Signed out ${deviceName(device)}.`);
  } catch (error) {
    log(`Could not sign out ${deviceName(device)}: ${(error as Error).message}`);
  } finally {
    button.disabled = false;
    void refreshDevices();
  }
}

/** Rows are kept per device id, so a refresh never takes keyboard focus away from a button. */
function renderDevices(list: DevicesResponse): void {
  const tbody = $('device-rows');
  const rows = new Map<string, HTMLTableRowElement>();
  for (const row of tbody.querySelectorAll<HTMLTableRowElement>('tr[data-device-id]')) {
    rows.set(row.dataset.deviceId ?? '', row);
  }
  const keep = new Set<string>();
  let previous: HTMLTableRowElement | null = null;
  for (const device of list.devices) {
    keep.add(device.deviceId);
    let row = rows.get(device.deviceId);
    if (!row) {
      row = document.createElement('tr');
      row.dataset.deviceId = device.deviceId;
      const name = document.createElement('th');
      name.scope = 'row';
      row.append(name, document.createElement('td'), document.createElement('td'), document.createElement('td'));
      const actions = document.createElement('td');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Sign out';
      button.addEventListener('click', () => {
        const current = currentDevices.get(row?.dataset.deviceId ?? '');
        if (current) void signOutDevice(current, button);
      });
      actions.append(button);
      row.append(actions);
    }
    const [nameCell, platformCell, seenCell, twilioCell, actionCell] = [...row.cells];
    const mine = device.deviceId === presence.deviceId;
    nameCell!.textContent = deviceName(device);
    if (mine) {
      const marker = document.createElement('span');
      marker.className = 'this-device';
      marker.textContent = 'this device';
      nameCell!.append(marker);
    }
    platformCell!.textContent = PLATFORMS[device.platform] ?? device.platform;
    seenCell!.textContent = ago(device.lastSeen);
    twilioCell!.textContent = device.twilioState ?? '—';
    actionCell!.querySelector('button')!.setAttribute('aria-label', `Sign out ${deviceName(device)}${mine ? ' (this device)' : ''}`);
    row.classList.toggle('mine', mine);
    const anchor: ChildNode | null = previous ? previous.nextSibling : tbody.firstChild;
    if (row !== anchor) tbody.insertBefore(row, anchor);
    previous = row;
  }
  for (const [id, row] of rows) if (!keep.has(id)) row.remove();
  $('devices-empty').hidden = list.devices.length > 0;
  $('on-call').textContent = list.onCall
    ? `On a call${list.onCallSince ? ` since ${new Date(list.onCallSince).toLocaleTimeString()}` : ''}.`
    : 'Not on a call.';
}

const currentDevices = new Map<string, StoredDevice>();
let identity: string | null = null;
let refreshing = false;

async function refreshDevices(): Promise<void> {
  if (!session || refreshing) return;
  refreshing = true;
  try {
    const list = await request<DevicesResponse>('GET', '/phone/voice/devices', undefined, await getAppToken({ refresh: false }));
    identity = list.identity;
    currentDevices.clear();
    for (const device of list.devices) currentDevices.set(device.deviceId, device);
    renderDevices(list);
    $('devices-error').hidden = true;
  } catch (error) {
    const errorElement = $('devices-error');
    errorElement.textContent = `Cannot load your devices: ${(error as Error).message}`;
    errorElement.hidden = false;
  } finally {
    refreshing = false;
    renderPresence();
  }
}

// ── phones and simulated calls ──────────────────────────────────────────────

function renderPhones(phones: AssignedPhone[]): void {
  const tbody = $('phone-rows');
  tbody.replaceChildren(
    ...phones.map((phone) => {
      const row = document.createElement('tr');
      row.dataset.phoneId = phone.id;
      const name = document.createElement('th');
      name.scope = 'row';
      name.textContent = phone.friendlyName;
      const number = document.createElement('td');
      number.textContent = phone.phoneNumber;
      const how = document.createElement('td');
      how.textContent = phone.assignment === 'direct' ? 'Directly' : `Through the group ${phone.groupName ?? phone.groupId ?? ''}`;
      const actions = document.createElement('td');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Simulate an incoming call';
      button.setAttribute('aria-label', `Simulate an incoming call to ${phone.friendlyName} (${phone.phoneNumber})`);
      button.addEventListener('click', () => void simulateCall(phone, button));
      actions.append(button);
      row.append(name, number, how, actions);
      return row;
    }),
  );
  $('phones-empty').hidden = phones.length > 0;
}

async function simulateCall(phone: AssignedPhone, button: HTMLButtonElement): Promise<void> {
  const result = $('call-result');
  button.disabled = true;
  try {
    const call = await request<SimulatedCall>(
      'POST',
      '/dev/simulate-call',
      { phoneNumber: phone.phoneNumber },
      await getAppToken({ refresh: false }),
    );
    const heading = document.createElement('p');
    const title = document.createElement('strong');
    title.textContent = `A call to ${phone.friendlyName} (${phone.phoneNumber})`;
    heading.append(
      title,
      call.ringing.length > 0
        ? ` would ring ${call.ringing.length} identit${call.ringing.length === 1 ? 'y' : 'ies'}:`
        : ` would ring nobody (${call.outcome}${call.reason ? `: ${call.reason}` : ''}).`,
    );
    const list = document.createElement('ul');
    list.className = 'ringing';
    for (const who of call.ringing) {
      const item = document.createElement('li');
      item.textContent = who === identity ? `${who} (you)` : who;
      list.append(item);
    }
    const details = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = `TwiML answered to Twilio (${call.outcome})`;
    const pre = document.createElement('pre');
    pre.textContent = call.twiml;
    details.append(summary, pre);
    result.replaceChildren(heading, ...(call.ringing.length > 0 ? [list] : []), details);
    log(`Simulated a call to ${phone.friendlyName}: ${call.outcome}, ${call.ringing.length} ringing.`);
  } catch (error) {
    result.textContent = `Could not simulate the call: ${(error as Error).message}`;
  } finally {
    button.disabled = false;
  }
}

async function refreshPhones(): Promise<void> {
  try {
    const { assignedPhones } = await request<UserPhonesResponse>('GET', '/phone/user-phones', undefined, await getAppToken({ refresh: false }));
    renderPhones(assignedPhones);
  } catch (error) {
    log(`Cannot load your numbers: ${(error as Error).message}`);
  }
}

// ── activity ────────────────────────────────────────────────────────────────

function log(text: string): void {
  const list = $('activity-log');
  const item = document.createElement('li');
  const time = document.createElement('time');
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString();
  item.append(time, text);
  list.prepend(item);
  while (list.children.length > 12) list.lastElementChild?.remove();
}

// ── sign-in and the page's two faces ────────────────────────────────────────

let refreshTimer: number | undefined;

function showSignedIn(current: Session): void {
  $('sign-in').hidden = true;
  for (const id of ['account', 'presence', 'devices', 'phones', 'activity']) $(id).hidden = false;
  $('account-name').textContent = current.name ? `${current.name} <${current.email}>` : current.email;
  $('account-org').textContent = `(${current.orgId})`;
  renderPresence();
  void refreshDevices();
  void refreshPhones();
  clearInterval(refreshTimer);
  refreshTimer = window.setInterval(() => {
    if (document.visibilityState === 'visible') void refreshDevices();
    else renderPresence();
  }, REFRESH_MS);
}

async function showSignIn(message?: string): Promise<void> {
  clearInterval(refreshTimer);
  for (const id of ['account', 'presence', 'devices', 'phones', 'activity']) $(id).hidden = true;
  $('sign-in').hidden = false;
  const error = $('sign-in-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  const select = $<HTMLSelectElement>('user-select');
  try {
    const { users } = await request<{ users: DemoUser[] }>('GET', '/dev/users');
    select.replaceChildren(
      ...users.map((user, index) => {
        const option = document.createElement('option');
        option.value = String(index);
        option.textContent = `${user.name ? `${user.name} — ` : ''}${user.email} (${user.orgId})`;
        return option;
      }),
    );
    usersByIndex = users;
  } catch (e) {
    error.textContent = `Cannot load the demo users (is this the local server?): ${(e as Error).message}`;
    error.hidden = false;
  }
}

let usersByIndex: DemoUser[] = [];

function signedOutOfApp(message?: string): void {
  session = null;
  localStorage.removeItem(SESSION_KEY);
  void showSignIn(message);
}

$<HTMLFormElement>('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const user = usersByIndex[Number($<HTMLSelectElement>('user-select').value)];
  if (!user) return;
  const button = $<HTMLButtonElement>('sign-in-button');
  button.disabled = true;
  signInAs(user)
    .then((current) => {
      showSignedIn(current);
      log(`Signed in as ${current.email}.`);
      // An explicit sign-in: brings this browser back even if it was signed out remotely.
      presence.start({ signIn: true });
    })
    .catch((error: Error) => {
      const message = $('sign-in-error');
      message.textContent = `Sign-in failed: ${error.message}`;
      message.hidden = false;
    })
    .finally(() => {
      button.disabled = false;
    });
});

$('sign-in-again').addEventListener('click', () => {
  log('Signing in again on this browser.');
  presence.start({ signIn: true });
});

$('switch-user').addEventListener('click', () => {
  void presence.stop();
  signedOutOfApp();
});

// Another tab signed in as someone else, or out: follow it.
window.addEventListener('storage', (event) => {
  if (event.key !== SESSION_KEY) return;
  const next = loadSession();
  if (!next || !session || next.email !== session.email || next.orgId !== session.orgId) location.reload();
  else session = next;
});

if (session) {
  showSignedIn(session);
  presence.start();
} else {
  void showSignIn();
}
