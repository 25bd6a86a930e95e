// The settings page of the local server (`softphone-presence serve`, GET /): sign in as a user
// of the demo directory, then watch this browser's presence, the user's devices and numbers.
// Nothing polls: the device list and the call state change with the server's events.
//
// Query parameters (for tests and demos):
//   ?device=fake          a stand-in Twilio Device that registers at once (nothing can reach Twilio)
//   ?device=fake-offline  a stand-in that fails as a Device does when Twilio is unreachable
//   ?api=URL              another API base URL than this page's origin (it must allow the origin in CORS)
import { SoftphonePresence, isEventOf } from '../../src/softphone-presence.js';
import type {
  AssignedPhone,
  DevicesResponse,
  PresenceState,
  RealtimeState,
  ServerEvent,
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
/** How often the page redraws what depends on time alone (no request). */
const RENDER_MS = 1_000;
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

const REALTIME_TEXT: Record<RealtimeState, string> = {
  connected: 'Connected: devices and calls update as they change',
  connecting: 'Connecting…',
  closed: 'Off',
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
    ? 'this tab (it runs the Twilio Device, the heartbeats and the live updates)'
    : state === 'stopped'
      ? '—'
      : 'another tab of this browser (this one waits to take over)';
  $('signed-out').hidden = state !== 'signedOut';
  const realtime = $('realtime-state');
  realtime.textContent = REALTIME_TEXT[presence.realtimeState];
  realtime.dataset.realtime = presence.realtimeState;

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
presence.on('realtime', ({ state }) => {
  renderPresence();
  if (state === 'connected') log('Live updates connected.');
});

// ── the server's events ─────────────────────────────────────────────────────

presence.on('event', (event) => log(describe(event)));
presence.on('devices.changed', () => void refreshDevices());
presence.on('call.state', ({ at, data: { callSid, onCall, onCallSince } }) => {
  if (onCall) {
    callLegs.set(callSid, { since: onCallSince ?? at, learnt: Date.now() });
  } else {
    callLegs.delete(callSid);
    // The list counted a call no event named: was it this one?
    if (unnamedCallSince !== null) void refreshDevices();
  }
  renderCallState();
});
presence.on('resync', () => {
  log('This browser was away longer than the server keeps events: reloading.');
  void refreshDevices();
  void refreshPhones();
});

function describe(event: ServerEvent): string {
  const who = (deviceId: string) =>
    deviceId === presence.deviceId ? 'This browser' : `Device ${currentDevices.get(deviceId)?.label ?? deviceId}`;
  if (isEventOf(event, 'devices.changed')) return `${who(event.data.deviceId)}: ${event.data.change}.`;
  if (isEventOf(event, 'device.signedOut')) return `${who(event.data.deviceId)} was signed out from another device.`;
  if (isEventOf(event, 'call.state')) return `Call …${event.data.callSid.slice(-6)} ${event.data.onCall ? 'answered' : 'ended'}.`;
  return `Event ${event.type}.`;
}

// ── devices ─────────────────────────────────────────────────────────────────

const PLATFORMS: Record<string, string> = { web: 'Web', ios: 'iOS', android: 'Android' };

/** A time, not "N s ago": heartbeats are no events, so the list is not refetched for them. */
function seen(epochMs: number): string {
  const date = new Date(epochMs);
  return date.toDateString() === new Date().toDateString() ? date.toLocaleTimeString() : date.toLocaleString();
}

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "2 days ago": a phone asleep was last opened minutes to days ago, which a time of day hides. */
function ago(epochMs: number): string {
  const minutes = Math.round((epochMs - Date.now()) / 60_000);
  if (Math.abs(minutes) < 60) return RELATIVE.format(minutes, 'minute');
  if (Math.abs(minutes) < 48 * 60) return RELATIVE.format(Math.round(minutes / 60), 'hour');
  return RELATIVE.format(Math.round(minutes / (24 * 60)), 'day');
}

/** When a device was last heard from; for a phone asleep, that Twilio's push still reaches it. */
function lastSeenText(device: StoredDevice): string {
  return device.reachability === 'push' ? `Reachable by push, last opened ${ago(device.lastSeen)}` : seen(device.lastSeen);
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
    seenCell!.textContent = lastSeenText(device);
    row.dataset.reachability = device.reachability;
    twilioCell!.textContent = device.twilioState ?? '—';
    actionCell!.querySelector('button')!.setAttribute('aria-label', `Sign out ${deviceName(device)}${mine ? ' (this device)' : ''}`);
    row.classList.toggle('mine', mine);
    const anchor: ChildNode | null = previous ? previous.nextSibling : tbody.firstChild;
    if (row !== anchor) tbody.insertBefore(row, anchor);
    previous = row;
  }
  for (const [id, row] of rows) if (!keep.has(id)) row.remove();
  $('devices-empty').hidden = list.devices.length > 0;
}

// ── the call state ──────────────────────────────────────────────────────────
//
// The device list says whether the user is on a call (any leg); each call.state event is about
// one leg. The user is on a call while any leg is: legs named by events, by CallSid, and one
// the last list counted that no event has named yet.

const callLegs = new Map<string, { since: number; learnt: number }>();
let unnamedCallSince: number | null = null;

/** The list as of `asked` (when it was requested): legs learnt before then it has the last word on. */
function applyListCallState(list: DevicesResponse, asked: number): void {
  if (!list.onCall) {
    for (const [sid, leg] of callLegs) if (leg.learnt < asked) callLegs.delete(sid);
    unnamedCallSince = null;
  } else {
    const earliest = Math.min(...[...callLegs.values()].map((leg) => leg.since));
    const since = list.onCallSince ?? Date.now();
    unnamedCallSince = callLegs.size === 0 || since < earliest ? since : null;
  }
  renderCallState();
}

function renderCallState(): void {
  const starts = [...callLegs.values()].map((leg) => leg.since);
  if (unnamedCallSince !== null) starts.push(unnamedCallSince);
  const element = $('on-call');
  element.dataset.onCall = String(starts.length > 0);
  element.textContent =
    starts.length > 0 ? `On a call since ${new Date(Math.min(...starts)).toLocaleTimeString()}.` : 'Not on a call.';
}

const currentDevices = new Map<string, StoredDevice>();
let identity: string | null = null;
let refreshing = false;
let refreshAgain = false;

/** GET the device list (and the call state with it); one more time if asked for meanwhile. */
async function refreshDevices(): Promise<void> {
  if (!session) return;
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  try {
    do {
      refreshAgain = false;
      await loadDevices();
    } while (refreshAgain && session);
  } finally {
    refreshing = false;
    renderPresence();
  }
}

async function loadDevices(): Promise<void> {
  try {
    const asked = Date.now();
    const list = await request<DevicesResponse>('GET', '/phone/voice/devices', undefined, await getAppToken({ refresh: false }));
    identity = list.identity;
    currentDevices.clear();
    for (const device of list.devices) currentDevices.set(device.deviceId, device);
    renderDevices(list);
    applyListCallState(list, asked);
    $('devices-error').hidden = true;
  } catch (error) {
    const errorElement = $('devices-error');
    errorElement.textContent = `Cannot load your devices: ${(error as Error).message}`;
    errorElement.hidden = false;
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

let renderTimer: number | undefined;

function showSignedIn(current: Session): void {
  $('sign-in').hidden = true;
  for (const id of ['account', 'presence', 'devices', 'phones', 'activity']) $(id).hidden = false;
  $('account-name').textContent = current.name ? `${current.name} <${current.email}>` : current.email;
  $('account-org').textContent = `(${current.orgId})`;
  renderPresence();
  void refreshDevices();
  void refreshPhones();
  // Only what time changes ("Twilio unreachable" after a while): no request.
  clearInterval(renderTimer);
  renderTimer = window.setInterval(renderPresence, RENDER_MS);
}

async function showSignIn(message?: string): Promise<void> {
  clearInterval(renderTimer);
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
