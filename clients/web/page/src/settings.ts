// The settings page of the local server (`softphone-presence serve`, GET /): sign in as a user
// of the demo directory, then watch this browser's presence, and the user's devices, numbers,
// recent calls and texts (sections in devices.ts, phones.ts, calls.ts, inbox.ts, activity.ts).
// This file holds the presence section, the sign-in and the wiring. Nothing polls: the
// sections change with the server's events.
//
// Query parameters (for tests and demos):
//   ?device=fake          a stand-in Twilio Device that registers at once (nothing can reach Twilio)
//   ?device=fake-offline  a stand-in that fails as a Device does when Twilio is unreachable
//   ?api=URL              another API base URL than this page's origin (it must allow the origin in CORS)
import { SoftphonePresence, isEventOf } from '../../src/softphone-presence.js';
import type { PresenceState, RealtimeState, ServerEvent } from '../../src/softphone-presence.js';
import { log } from './activity.js';
import { CallsSection } from './calls.js';
import { DevicesSection } from './devices.js';
import { $ } from './dom.js';
import { fakeDeviceClass } from './fake-device.js';
import { InboxSection } from './inbox.js';
import { PhonesSection } from './phones.js';
import { TeamSection } from './team.js';
import { apiBaseUrl, deviceMode, followOtherTabs, forgetSession, getAppToken, loadDemoUsers, session, signInAs } from './session.js';
import type { DemoUser, Session } from './session.js';

/** How often the page redraws what depends on time alone (no request). */
const RENDER_MS = 1_000;
/** A Device that has not registered with Twilio after this long is taken as cut off from it. */
const TWILIO_PATIENCE_MS = 10_000;
/** The sections shown once signed in. */
const SECTIONS = ['account', 'presence', 'team', 'devices', 'phones', 'calls', 'inbox', 'activity'];

// ── presence ────────────────────────────────────────────────────────────────

const presence = new SoftphonePresence({
  apiBaseUrl,
  getAppToken,
  // The page is also the user's SMS inbox: the sms.* events reach only sms devices.
  capabilities: ['voice', 'sms'],
  onSignInRequired: () => {
    log('The server refused the sign-in token: sign in again.');
    signedOutOfApp('Your sign-in has expired. Sign in again.');
  },
  ...(deviceMode === 'fake' || deviceMode === 'fake-offline' ? { Device: fakeDeviceClass(deviceMode) } : {}),
  deviceOptions: { appName: 'softphone-presence-settings', closeProtection: false, logLevel: 'warn' },
});

// A handle for the browser console and for browser tests.
(window as unknown as { softphone: unknown }).softphone = { presence };

const devices = new DevicesSection(presence, () => renderPresence());
const phones = new PhonesSection(() => devices.identity);
const calls = new CallsSection(presence, phones);
const inbox = new InboxSection(presence, phones);
const team = new TeamSection(presence);
phones.changed = () => team.groups(phones.groups());
calls.names = (email) => team.name(email);

const EXPLANATIONS: Record<PresenceState, string> = {
  starting: 'Registering this browser…',
  live: 'This browser is online for your calls and texts.',
  reconnecting: 'The service does not answer; retrying. This browser stays listed until its presence expires.',
  signedOut: 'Signed out on this browser.',
  stopped: 'Presence is not running in this tab.',
};

const REALTIME_TEXT: Record<RealtimeState, string> = {
  connected: 'Connected: devices, calls and texts update as they change',
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
  if (state === 'live' || state === 'signedOut') void devices.refresh();
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
  phones.render(registration.assignedPhones);
  void devices.refresh();
});
presence.on('evicted', ({ deviceIds }) => log(`Signed out to make room: ${deviceIds.join(', ')}`));
presence.on('error', (error) => log(`Error: ${error.message} (${error.code})`));
presence.on('realtime', ({ state }) => {
  renderPresence();
  if (state === 'connected') log('Live updates connected.');
});

// ── the server's events (the inbox and the calls listen to theirs themselves) ──

presence.on('event', (event) => log(describe(event)));
presence.on('devices.changed', () => void devices.refresh());
// An admin changed which numbers ring this user: the event carries the new list.
presence.on('phones.changed', ({ data }) => phones.update(data.assignedPhones));
presence.on('call.state', (event) => devices.onCallState(event));
presence.on('resync', () => {
  log('This browser was away longer than the server keeps events: reloading.');
  void devices.refresh();
  void phones.refresh();
});

function describe(event: ServerEvent): string {
  if (isEventOf(event, 'devices.changed')) return `${devices.who(event.data.deviceId)}: ${event.data.change}.`;
  if (isEventOf(event, 'device.signedOut')) return `${devices.who(event.data.deviceId)} was signed out from another device.`;
  if (isEventOf(event, 'call.state')) return `Call …${event.data.callSid.slice(-6)} ${event.data.onCall ? 'answered' : 'ended'}.`;
  if (isEventOf(event, 'sms.received')) return `Text from ${event.data.conversation.with} to ${event.data.conversation.phoneNumber}.`;
  if (isEventOf(event, 'sms.sent')) {
    const { conversation, message } = event.data;
    return `Text to ${conversation.with} from ${conversation.phoneNumber}${message.sentBy ? ` by ${message.sentBy}` : ''}.`;
  }
  if (isEventOf(event, 'sms.status')) return `Text …${event.data.messageSid.slice(-6)} to ${event.data.with}: ${event.data.status}.`;
  if (isEventOf(event, 'sms.read')) return `Read the texts with ${event.data.with} (${event.data.unread} unread).`;
  if (isEventOf(event, 'call.missed')) return `Missed call from ${event.data.from} to ${event.data.phoneNumber ?? event.data.to}.`;
  if (isEventOf(event, 'voicemail.received')) return `Voicemail from ${event.data.from} (${event.data.voicemail.durationSeconds} s).`;
  if (isEventOf(event, 'calls.seen')) return 'Your calls were marked seen.';
  if (isEventOf(event, 'phones.changed')) return `Your phone numbers changed: ${event.data.assignedPhones.length} now ring you.`;
  return `Event ${event.type}.`;
}

// ── sign-in and the page's two faces ────────────────────────────────────────

let renderTimer: number | undefined;

function showSignedIn(current: Session): void {
  $('sign-in').hidden = true;
  for (const id of SECTIONS) $(id).hidden = false;
  $('account-name').textContent = current.name ? `${current.name} <${current.email}>` : current.email;
  $('account-org').textContent = `(${current.orgId})`;
  // An admin (signed in with "Sign in as an admin") changes the org's directory there.
  $('admin-link').hidden = !current.admin;
  renderPresence();
  void devices.refresh();
  void phones.refresh();
  void calls.reload();
  void inbox.reload();
  void team.reload();
  // Only what time changes ("Twilio unreachable" after a while): no request.
  clearInterval(renderTimer);
  renderTimer = window.setInterval(renderPresence, RENDER_MS);
}

let usersByIndex: DemoUser[] = [];

async function showSignIn(message?: string): Promise<void> {
  clearInterval(renderTimer);
  for (const id of SECTIONS) $(id).hidden = true;
  $('sign-in').hidden = false;
  const error = $('sign-in-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  const select = $<HTMLSelectElement>('user-select');
  try {
    usersByIndex = await loadDemoUsers(select);
  } catch (e) {
    error.textContent = `Cannot load the demo users (is this the local server?): ${(e as Error).message}`;
    error.hidden = false;
  }
}

function signedOutOfApp(message?: string): void {
  forgetSession();
  calls.clear();
  inbox.clear();
  team.clear();
  void showSignIn(message);
}

$<HTMLFormElement>('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const user = usersByIndex[Number($<HTMLSelectElement>('user-select').value)];
  if (!user) return;
  const button = $<HTMLButtonElement>('sign-in-button');
  button.disabled = true;
  signInAs({ ...user, admin: $<HTMLInputElement>('sign-in-admin').checked })
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

followOtherTabs(() => location.reload());

const current = session();
if (current) {
  showSignedIn(current);
  presence.start();
} else {
  void showSignIn();
}
