// SoftphonePresence: the whole client lifecycle of docs/client-contract.md for one browser.
//
//   starting ──▶ live ◀──▶ reconnecting
//      │          │             │
//      └──────────┴─────────────┴──▶ signedOut | stopped
//
// One tab of a browser profile leads (Web Locks): it alone runs the Twilio Device, the
// heartbeats and the realtime channel; the other tabs wait for the lock, mirror the leader's
// state and get the server's events from it over a BroadcastChannel.

import { Emitter } from './emitter.js';
import { browserEnvironment, labelFromUserAgent } from './environment.js';
import type { Environment, HttpResponse, ChannelLike } from './environment.js';
import { PATHS } from './api.js';
import type { Capability, ErrorBody, HeartbeatResponse, PresenceSettings, RegisterResponse, StoredDevice, TwilioState } from './api.js';
import { EVENT_TYPES, EventLog, isEventOf } from './events.js';
import type { KnownEventType, ServerEvent, ServerEventsByType } from './events.js';
import type { Outcome, PresenceError } from './outcome.js';
import { RealtimeChannel } from './realtime.js';
import type { RealtimeState } from './realtime.js';

export type * from './api.js';
export type * from './environment.js';
export type {
  CallStateEvent,
  DeviceChange,
  DeviceSignedOutEvent,
  DevicesChangedEvent,
  EventDataByType,
  KnownEventType,
  KnownServerEvent,
  ServerEvent,
  ServerEventOf,
  ServerEventsByType,
  UnknownServerEvent,
} from './events.js';
export type { PresenceError } from './outcome.js';
export type { RealtimeState } from './realtime.js';
export { EVENT_TYPES, isEventOf } from './events.js';
export { labelFromUserAgent } from './environment.js';
export { Emitter } from './emitter.js';

export type PresenceState = 'starting' | 'live' | 'reconnecting' | 'signedOut' | 'stopped';

/** Which state may follow which, in the tab that leads. */
export const TRANSITIONS: Readonly<Record<PresenceState, readonly PresenceState[]>> = {
  stopped: ['starting'],
  starting: ['live', 'reconnecting', 'signedOut', 'stopped'],
  live: ['reconnecting', 'signedOut', 'stopped'],
  reconnecting: ['live', 'signedOut', 'stopped'],
  signedOut: ['starting', 'stopped'],
};

/** The part of the Twilio Voice SDK's `Device` this library uses. */
export interface TwilioDeviceLike {
  readonly state: string;
  on(event: string, listener: (...args: any[]) => void): unknown;
  register(): Promise<void>;
  updateToken(token: string): void;
  destroy(): void;
}

export type TwilioDeviceClass = new (token: string, options?: any) => TwilioDeviceLike;

export interface SoftphonePresenceOptions {
  /** The stack's `ApiUrl`, e.g. `https://abc123.execute-api.us-east-1.amazonaws.com`. */
  apiBaseUrl: string;
  /**
   * The app's sign-in JWT. Called before every request, so it may refresh the token; after a
   * 401 it is called once more with `{ refresh: true }` and the request retried. A rejection
   * means the app cannot authenticate (presence stops with an `error` event).
   */
  getAppToken: (context: { refresh: boolean }) => Promise<string>;
  /** Called when the service refused the app token twice in a row (after one refresh), or getAppToken rejected. */
  onSignInRequired?: () => void;
  /** Shown in the user's device list (at most 64 characters). Default: "Chrome on macOS" and so on. */
  label?: string;
  /** Default `['voice']`. */
  capabilities?: Capability[];
  /** The Twilio `Device` class. Default: `Device` of `@twilio/voice-sdk`, loaded on first use. */
  Device?: TwilioDeviceClass;
  /** Passed as the second argument of `new Device(token, options)`. */
  deviceOptions?: Record<string, unknown>;
  /** Replace the browser's clock, timers, fetch, storage, locks, channels or randomness (tests). */
  environment?: Partial<Environment>;
}

export interface StateChange {
  state: PresenceState;
  previous: PresenceState;
  /** Whether this tab runs the Twilio Device and the heartbeats. */
  leader: boolean;
  /** Why, when it is not obvious: an error code such as `store_unavailable` or `network`. */
  reason?: string;
}

export interface TwilioStatus {
  /** `undefined` until a Device exists. */
  state: TwilioState | undefined;
  /** The last error the Device reported since it was last registered with Twilio. */
  error?: { code?: number; message: string };
}

/**
 * The library's events. Beside the lifecycle's own, every event of the user's log arrives as
 * `event` and, for the types this version knows, under its type too (`'call.state'`, …).
 */
export interface PresenceEvents extends ServerEventsByType {
  state: StateChange;
  /** Every successful register-device: token, assigned phones, stored device, presence settings. */
  registered: RegisterResponse;
  /** Devices of this user that the server removed to make room for this one. */
  evicted: { deviceIds: string[] };
  /** Presence stopped because of it (401 twice, a 400), or the Twilio SDK could not be loaded. */
  error: PresenceError;
  /** The Twilio Device's registration with Twilio changed, or it reported an error. */
  twilio: TwilioStatus;
  /** A new Twilio Device: attach `incoming` listeners here. */
  device: TwilioDeviceLike;
  /** This tab started or stopped leading (running the Device and the heartbeats). */
  leader: { leader: boolean };
  /** Every event of the user's log, once, in every tab: known types typed, others as they came. */
  event: ServerEvent;
  /** The log no longer reaches back to where this browser left off: reload what you show from the API. */
  resync: { reason: 'cursor_expired' };
  /** The realtime channel (run by the leading tab) is connecting, connected or closed. */
  realtime: { state: RealtimeState };
}

export const STORAGE_KEYS = {
  deviceId: 'softphone.deviceId',
  /** Set when this device was signed out (remotely or by `signOut()`): no automatic start. */
  signedOut: 'softphone.signedOut',
} as const;

const JITTER = 0.1;
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
const MIN_BACKOFF_MS = 500;
/** How soon a changed Twilio state is reported, so that a flapping Device costs few requests. */
const REPORT_DELAY_MS = 1_000;
/** Twilio errors that mean the access token is invalid or expired: register again. */
const TOKEN_ERROR_CODES = new Set([20101, 20104, 31204, 31205]);

/** What the tabs of one browser profile tell each other over the BroadcastChannel. */
type TabMessage =
  /** A tab started: every other started tab answers `here`, the leader its state and log. */
  | { type: 'hello'; tab: string }
  | { type: 'here'; tab: string }
  /** A tab stopped or closed. */
  | { type: 'bye'; tab: string }
  /**
   * The leader is closing while other tabs stay: it did not unregister, the next leader
   * registers the same device. What the last tab needs to unregister if it closes before that.
   */
  | { type: 'handover'; tab: string; registrationId?: string; appToken?: string }
  | { type: 'state'; tab: string; state: PresenceState; twilio: TwilioStatus; realtime: RealtimeState }
  | { type: 'signIn' }
  | { type: 'signedOut' }
  /** From the leader: events new to the app, to hand over in every tab. */
  | { type: 'events'; events: ServerEvent[] }
  /** From the leader: everything up to `cursor` was handed over. */
  | { type: 'cursor'; cursor: string }
  /** From the leader to a tab that said hello: its whole log. */
  | { type: 'log'; cursor: string | null; seen: string[] }
  | { type: 'resync' };

interface Handover {
  from: string;
  registrationId?: string;
  appToken?: string;
}

export class SoftphonePresence {
  /** `web_` + a UUID, created once per browser profile and kept in localStorage. */
  readonly deviceId: string;

  private readonly env: Environment;
  private readonly options: SoftphonePresenceOptions;
  private readonly events = new Emitter<PresenceEvents>();
  private readonly label: string;

  private _state: PresenceState = 'stopped';
  private _leader = false;
  /** The `leader` flag last announced with a `leader` event. */
  private announcedLeader = false;
  private _registration: RegisterResponse | null = null;
  private _device: TwilioDeviceLike | null = null;
  private twilio: TwilioStatus = { state: undefined };

  /** Bumped whenever the lifecycle is torn down: late answers of an older run are dropped. */
  private run = 0;
  private busy = false;
  private timer: unknown = null;
  private timerDue = 0;
  private needsRegister = false;
  /** A register was asked for while a request was in flight: run it right after, if live. */
  private registerAfterStep = false;
  private signInPending = false;
  private failures = 0;
  private expiresAtMs = 0;
  private intervalSeconds = 60;
  private reportedTwilioState: TwilioState | undefined;
  /** Kept for `pagehide`, where nothing can be awaited. */
  private appToken: string | null = null;
  private releaseLock: (() => void) | null = null;
  private lockRequest: AbortController | null = null;
  private channel: ChannelLike | null = null;
  /** Torn down by `pagehide`: a `pageshow` from the back/forward cache starts again. */
  private suspended = false;
  /** This tab, to the other tabs. */
  private readonly tabId: string;
  /** The other started tabs of this browser profile (they said hello or here, not yet bye). */
  private readonly peers = new Set<string>();
  /** The leader closed and left the device registered for the next one: until a new one leads. */
  private handover: Handover | null = null;
  /** When the device last registered, by the server's clock (`device.lastSeen` of the response). */
  private registeredAt = 0;
  /** Which events the app has seen, and where the next catch-up starts (kept in every tab). */
  private readonly log = new EventLog();
  /** Runs in the leading tab while it is registered; `null` without WebSockets. */
  private readonly realtime: RealtimeChannel | null;
  private _realtimeState: RealtimeState = 'closed';

  constructor(options: SoftphonePresenceOptions) {
    this.options = options;
    this.env = { ...browserEnvironment(), ...options.environment };
    this.label = (options.label ?? labelFromUserAgent(this.env.userAgent)).slice(0, 64);
    this.deviceId = this.loadDeviceId();
    this.tabId = this.env.randomUUID();
    this.realtime = this.env.WebSocket
      ? new RealtimeChannel({
          env: this.env,
          deviceId: this.deviceId,
          log: this.log,
          request: (method, path, body) => this.request(method, path, body),
          deliver: (events) => this.deliverEvents(events),
          advance: (cursor) => {
            this.log.advance(cursor);
            this.post({ type: 'cursor', cursor });
          },
          resync: () => {
            this.post({ type: 'resync' });
            this.events.emit('resync', { reason: 'cursor_expired' });
          },
          notRegistered: () => this.renew(),
          state: (state) => this.setRealtimeState(state),
        })
      : null;
    this.env.page?.addEventListener('pagehide', () => this.onPageHide());
    this.env.page?.addEventListener('pageshow', (event) => {
      if (event.persisted && this.suspended) this.start();
    });
  }

  get state(): PresenceState {
    return this._state;
  }

  /** Whether this tab runs the Twilio Device and the heartbeats for the browser. */
  get isLeader(): boolean {
    return this._leader;
  }

  /** The last register-device response of this tab (token, assigned phones, device, presence). */
  get registration(): RegisterResponse | null {
    return this._registration;
  }

  /** The Twilio Device this tab runs, if it leads. */
  get device(): TwilioDeviceLike | null {
    return this._device;
  }

  get twilioStatus(): TwilioStatus {
    return this.twilio;
  }

  /** The realtime channel's state; in a tab that does not lead, the leader's. */
  get realtimeState(): RealtimeState {
    return this._realtimeState;
  }

  on<K extends keyof PresenceEvents>(type: K, handler: (payload: PresenceEvents[K]) => void): () => void {
    return this.events.on(type, handler);
  }

  off<K extends keyof PresenceEvents>(type: K, handler: (payload: PresenceEvents[K]) => void): void {
    this.events.off(type, handler);
  }

  /**
   * Start presence for this browser. Without `signIn` (a page load, a restored tab) a device that
   * was signed out stays signed out; `signIn: true` means the user just signed in and brings it
   * back. Calling it again while running only forwards a sign-in to the tab that leads.
   */
  start(options: { signIn?: boolean } = {}): void {
    this.suspended = false;
    if (options.signIn) {
      this.env.storage?.removeItem(STORAGE_KEYS.signedOut);
      this.signInPending = true;
    }
    if (this._state !== 'stopped') {
      if (options.signIn) this.signInNow();
      return;
    }
    this.setState('starting');
    this.openChannel();
    this.requestLead();
  }

  /**
   * Stop presence in this tab: unregister the device (a normal request) and destroy the Twilio
   * Device. Another open tab of this browser then takes over.
   */
  async stop(): Promise<void> {
    if (this._state === 'stopped') return;
    const unregister = this._leader && this._state !== 'signedOut';
    const body = this.unregisterBody();
    const release = this.takeLockRelease();
    this.teardown('stopped');
    try {
      if (unregister) await this.call(PATHS.unregister, body);
    } finally {
      release();
    }
  }

  /**
   * Sign this browser out: the server removes the device and refuses its automatic registers
   * (other tabs, reloads) until the user signs in again with `start({ signIn: true })`.
   */
  async signOut(): Promise<void> {
    this.rememberSignedOut();
    this.signInPending = false;
    if (this._leader) this.enterSignedOut();
    else this.post({ type: 'signedOut' });
    if (this._state !== 'stopped' && !this._leader) this.setState('signedOut');
    await this.call(PATHS.unregister, { deviceId: this.deviceId, signOut: true });
  }

  // ── leadership ────────────────────────────────────────────────────────────

  private requestLead(): void {
    const locks = this.env.locks;
    if (!locks) {
      this.lead();
      return;
    }
    const run = this.run;
    const request = new AbortController();
    this.lockRequest = request;
    locks
      .request(`softphone-presence:${this.deviceId}`, { signal: request.signal }, () => {
        if (run !== this.run) return;
        // Held for as long as this tab runs presence: closing the tab releases it at once.
        return new Promise<void>((release) => {
          this.releaseLock = release;
          this.lockRequest = null;
          this.lead();
        });
      })
      .catch(() => {
        // Aborted by stop() or pagehide while another tab led.
      });
  }

  private lead(): void {
    this._leader = true;
    this.twilio = { state: undefined };
    // What it mirrored was the previous leader's channel; its own opens once it is live.
    this.setRealtimeState('closed', false);
    if (this.isSignedOutStored() && !this.signInPending) {
      this.forceState('signedOut');
    } else {
      this.forceState('starting');
      this.needsRegister = true;
      this.setTimer(0);
    }
    // The other tabs learn who leads now, even when the state did not change.
    this.broadcastState();
  }

  private takeLockRelease(): () => void {
    const release = this.releaseLock ?? (() => {});
    this.releaseLock = null;
    this.lockRequest?.abort();
    this.lockRequest = null;
    return release;
  }

  private signInNow(): void {
    if (!this._leader) {
      this.post({ type: 'signIn' });
      return;
    }
    this.signInPending = true;
    if (this._state === 'signedOut') this.setState('starting');
    this.askRegister();
  }

  private askRegister(): void {
    this.needsRegister = true;
    if (this.busy) this.registerAfterStep = true;
    else this.setTimer(0);
  }

  // ── the request loop ──────────────────────────────────────────────────────

  private setTimer(ms: number): void {
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timerDue = this.env.now() + ms;
    this.timer = this.env.setTimeout(() => {
      this.timer = null;
      void this.step();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timer = null;
  }

  /** One request: register when needed (or when the TTL has passed), else heartbeat. */
  private async step(): Promise<void> {
    if (this.busy || !this._leader || this._state === 'signedOut' || this._state === 'stopped') return;
    const run = this.run;
    this.busy = true;
    try {
      const ttlPassed = this.env.now() >= this.expiresAtMs;
      if (this.needsRegister || ttlPassed) await this.register(run);
      else await this.heartbeat(run);
    } finally {
      if (run === this.run) this.busy = false;
    }
    // tokenWillExpire or a sign-in came while the request was in flight. While reconnecting,
    // the next try (after its backoff) registers anyway.
    if (run === this.run && this.registerAfterStep && this.needsRegister && this._state === 'live') {
      this.setTimer(0);
    }
    this.registerAfterStep = false;
  }

  private async register(run: number): Promise<void> {
    const signIn = this.signInPending;
    const outcome = await this.call(PATHS.register, {
      deviceId: this.deviceId,
      platform: 'web',
      label: this.label,
      capabilities: this.options.capabilities ?? ['voice'],
      ...(this.twilio.state ? { twilioState: this.twilio.state } : {}),
      ...(signIn ? { signIn: true } : {}),
    });
    if (run !== this.run) return;
    if (outcome.kind !== 'ok') {
      this.failed(outcome);
      return;
    }
    const registration = outcome.body as RegisterResponse;
    if (signIn) this.signInPending = false;
    this.needsRegister = this.signInPending;
    this._registration = registration;
    this.handover = null;
    this.registeredAt = registration.device?.lastSeen ?? 0;
    this.reportedTwilioState = this.twilio.state;
    this.noteDevice(registration.device, registration.presence);
    this.events.emit('registered', registration);
    if (registration.evictedDeviceIds?.length) {
      this.events.emit('evicted', { deviceIds: registration.evictedDeviceIds });
    }
    await this.useToken(registration.token, run);
    if (run !== this.run) return;
    this.setState('live');
    this.realtime?.start();
    this.realtime?.registered();
    // A new Device has started registering with Twilio since: report that soon.
    const changed = this._device !== null && this.twilio.state !== this.reportedTwilioState;
    this.setTimer(changed ? REPORT_DELAY_MS : this.jittered(this.intervalSeconds));
  }

  private async heartbeat(run: number): Promise<void> {
    const twilioState = this.twilio.state;
    // Only a changed state is sent: the server writes the device's state (and an event for the
    // user's other devices) in a transaction whenever a heartbeat reports one.
    const report = twilioState !== undefined && twilioState !== this.reportedTwilioState;
    const outcome = await this.call(PATHS.heartbeat, {
      deviceId: this.deviceId,
      ...(report ? { twilioState } : {}),
    });
    if (run !== this.run) return;
    if (outcome.kind !== 'ok') {
      this.failed(outcome);
      return;
    }
    const beat = outcome.body as HeartbeatResponse;
    this.reportedTwilioState = twilioState;
    this.noteDevice(beat.device, beat.presence);
    this.setState('live');
    this.setTimer(this.jittered(this.intervalSeconds));
  }

  private noteDevice(device: StoredDevice | undefined, presence: PresenceSettings | undefined): void {
    this.failures = 0;
    if (device?.expiresAt) this.expiresAtMs = device.expiresAt * 1000;
    if (presence?.heartbeatIntervalSeconds) this.intervalSeconds = presence.heartbeatIntervalSeconds;
  }

  private failed(outcome: Exclude<Outcome, { kind: 'ok' }>): void {
    switch (outcome.kind) {
      case 'notRegistered':
        // Expired, evicted or unregistered (another tab's pagehide): only register brings it back.
        this.needsRegister = true;
        this.setState('reconnecting', 'device_not_registered');
        this.setTimer(0);
        return;
      case 'signedOut':
        this.rememberSignedOut();
        this.enterSignedOut();
        return;
      case 'transient':
        this.setState('reconnecting', outcome.reason);
        this.setTimer(this.backoff(outcome.retryAfterMs));
        return;
      case 'unauthorized':
        this.events.emit('error', outcome.error);
        this.options.onSignInRequired?.();
        this.takeLockRelease()();
        this.teardown('stopped');
        return;
      case 'fatal':
        this.events.emit('error', outcome.error);
        this.takeLockRelease()();
        this.teardown('stopped');
        return;
    }
  }

  private jittered(seconds: number): number {
    return seconds * 1000 * (1 - JITTER + 2 * JITTER * this.env.random());
  }

  /** Retry-After when the server gave one, else exponential with jitter, inside the TTL. */
  private backoff(retryAfterMs: number | undefined): number {
    this.failures += 1;
    if (retryAfterMs !== undefined) return retryAfterMs;
    const base = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.failures - 1));
    const delay = base / 2 + (base / 2) * this.env.random();
    const left = this.expiresAtMs - this.env.now();
    // Try at least twice more before the TTL runs out; once it has, the next try registers.
    return left > 0 ? Math.min(delay, Math.max(MIN_BACKOFF_MS, left / 2)) : delay;
  }

  // ── HTTP ──────────────────────────────────────────────────────────────────

  private call(path: string, body: object): Promise<Outcome> {
    return this.request('POST', path, body);
  }

  /** A request with the app token; a 401 is retried once with a token asked for again. */
  private async request(
    method: 'GET' | 'POST',
    path: string,
    body?: object,
    retryUnauthorized = true,
  ): Promise<Outcome> {
    let token: string;
    try {
      token = await this.options.getAppToken({ refresh: !retryUnauthorized });
    } catch (cause) {
      return {
        kind: 'unauthorized',
        error: { code: 'app_token', message: `getAppToken failed: ${String(cause)}` },
      };
    }
    this.appToken = token;
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
      return { kind: 'transient', reason: 'network' };
    }
    if (response.status === 401 && retryUnauthorized) return this.request(method, path, body, false);
    return this.classify(response);
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
      return { kind: 'transient', reason: code, retryAfterMs: this.retryAfterMs(response) };
    }
    return { kind: 'fatal', error: { code, message, status } };
  }

  private retryAfterMs(response: HttpResponse): number | undefined {
    const value = response.headers.get('Retry-After');
    if (value === null || value.trim() === '') return undefined;
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(value);
    return Number.isNaN(date) ? undefined : Math.max(0, date - this.env.now());
  }

  private url(path: string): string {
    return this.options.apiBaseUrl.replace(/\/+$/, '') + path;
  }

  private unregisterBody(registrationId = this._registration?.registrationId): object {
    return { deviceId: this.deviceId, ...(registrationId ? { registrationId } : {}) };
  }

  // ── the Twilio Device ─────────────────────────────────────────────────────

  private async useToken(token: string, run: number): Promise<void> {
    const current = this._device;
    if (current && current.state !== 'destroyed') {
      try {
        current.updateToken(token);
      } catch {
        // A Device that cannot take the token is replaced below.
        this.destroyDevice();
      }
      if (this._device) return;
    }
    let DeviceClass: TwilioDeviceClass;
    try {
      DeviceClass = this.options.Device ?? (await loadTwilioDevice());
    } catch (cause) {
      this.events.emit('error', { code: 'twilio_sdk', message: `cannot load @twilio/voice-sdk: ${String(cause)}` });
      return;
    }
    if (run !== this.run) return;
    let device: TwilioDeviceLike;
    try {
      device = new DeviceClass(token, this.options.deviceOptions);
    } catch (cause) {
      this.setTwilio({ state: undefined, error: { message: String(cause) } });
      return;
    }
    this._device = device;
    const mine = () => this._device === device;
    for (const state of ['registered', 'registering', 'unregistered'] as const) {
      device.on(state, () => {
        if (mine()) this.setTwilio({ state, ...(state === 'registered' ? {} : { error: this.twilio.error }) });
      });
    }
    device.on('error', (error: { code?: number; message?: string } | undefined) => {
      if (!mine()) return;
      this.setTwilio({
        state: this.twilio.state,
        error: { code: error?.code, message: error?.message ?? String(error) },
      });
      if (error?.code !== undefined && TOKEN_ERROR_CODES.has(error.code)) this.renew();
    });
    device.on('tokenWillExpire', () => {
      if (mine()) this.renew();
    });
    this.events.emit('device', device);
    try {
      // Rejects when Twilio cannot be reached; the 'error' and 'unregistered' events say so.
      device.register().catch(() => {});
    } catch {
      // A Device in the wrong state: its own events tell.
    }
  }

  /** Register again for a fresh token, then `device.updateToken(token)`. */
  private renew(): void {
    if (!this._leader || this._state === 'signedOut' || this._state === 'stopped') return;
    this.askRegister();
  }

  private setTwilio(status: TwilioStatus): void {
    this.twilio = status;
    this.events.emit('twilio', status);
    this.broadcastState();
    // Report a changed Twilio state soon rather than at the next heartbeat.
    if (
      this._device !== null &&
      this._state === 'live' &&
      status.state !== this.reportedTwilioState &&
      !this.busy &&
      this.timer !== null &&
      this.timerDue > this.env.now() + REPORT_DELAY_MS
    ) {
      this.setTimer(REPORT_DELAY_MS);
    }
  }

  private destroyDevice(): void {
    const device = this._device;
    this._device = null;
    if (device && device.state !== 'destroyed') {
      try {
        device.destroy();
      } catch {
        // Already gone.
      }
    }
    if (this.twilio.state !== undefined || this.twilio.error) this.setTwilio({ state: undefined });
  }

  // ── ending ────────────────────────────────────────────────────────────────

  private enterSignedOut(): void {
    this.run += 1;
    this.busy = false;
    this.clearTimer();
    this.realtime?.stop();
    this.destroyDevice();
    this._registration = null;
    this.expiresAtMs = 0;
    // The lock stays taken: the other tabs would only find the device signed out too.
    this.setState('signedOut');
  }

  private teardown(to: 'stopped'): void {
    this.run += 1;
    this.busy = false;
    this.needsRegister = false;
    this.clearTimer();
    this.realtime?.stop();
    this.destroyDevice();
    this._registration = null;
    this.expiresAtMs = 0;
    this._leader = false;
    this.setState(to);
    this.setRealtimeState('closed');
    this.post({ type: 'bye', tab: this.tabId });
    this.peers.clear();
    this.handover = null;
    this.channel?.close();
    this.channel = null;
  }

  /**
   * The page goes away. The leading tab hands over when other tabs of this browser stay open:
   * the next one takes the lock and registers the same device id at once, and an unregister
   * racing that register could drop the device from the user's list (calls in that moment
   * would go to voicemail). The last tab unregisters, with `keepalive`.
   */
  private onPageHide(): void {
    if (this._state === 'stopped') return;
    const registrationId = this._registration?.registrationId ?? this.handover?.registrationId;
    const token = this.appToken ?? this.handover?.appToken;
    const running = this._leader && this._state !== 'signedOut';
    if (running && this.peers.size > 0) {
      // Same-origin tabs of one profile: each of them could ask the app for the token itself.
      this.post({
        type: 'handover',
        tab: this.tabId,
        ...(registrationId ? { registrationId } : {}),
        ...(token ? { appToken: token } : {}),
      });
    } else if (this.peers.size === 0 && token && (running ? this._registration || this.handover : this.handover)) {
      // The last tab: the leader, or a tab handed over to that closes before it registered.
      // No await is possible here. keepalive lets the request outlive the page; the
      // registrationId makes the server ignore it if a tab has registered since.
      this.env
        .fetch(this.url(PATHS.unregister), {
          method: 'POST',
          keepalive: true,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(this.unregisterBody(registrationId)),
        })
        .catch(() => {});
    }
    this.takeLockRelease()();
    this.teardown('stopped');
    this.suspended = true;
  }

  // ── state and the other tabs ──────────────────────────────────────────────

  private setState(next: PresenceState, reason?: string): void {
    if (next === this._state) return;
    if (this._leader && !TRANSITIONS[this._state].includes(next)) {
      throw new Error(`softphone-presence: no transition ${this._state} → ${next}`);
    }
    this.forceState(next, reason);
  }

  /** Change state without the leader's rules: a follower mirrors, a new leader starts over. */
  private forceState(next: PresenceState, reason?: string): void {
    const previous = this._state;
    if (this._leader !== this.announcedLeader) {
      this.announcedLeader = this._leader;
      this.events.emit('leader', { leader: this._leader });
    }
    if (next === previous) return;
    this._state = next;
    this.events.emit('state', { state: next, previous, leader: this._leader, ...(reason ? { reason } : {}) });
    this.broadcastState();
  }

  private openChannel(): void {
    const Channel = this.env.BroadcastChannel;
    if (!Channel || this.channel) return;
    const channel = new Channel(`softphone-presence:${this.deviceId}`);
    this.channel = channel;
    channel.addEventListener('message', (event) => {
      if (this.channel === channel) this.onTabMessage(event.data as TabMessage);
    });
    this.post({ type: 'hello', tab: this.tabId });
  }

  private post(message: TabMessage): void {
    try {
      this.channel?.postMessage(message);
    } catch {
      // A closed channel: nobody to tell.
    }
  }

  private broadcastState(): void {
    if (this._leader && this._state !== 'stopped') {
      this.post({ type: 'state', tab: this.tabId, state: this._state, twilio: this.twilio, realtime: this._realtimeState });
    }
  }

  private onTabMessage(message: TabMessage): void {
    switch (message.type) {
      case 'hello':
        this.peers.add(message.tab);
        this.post({ type: 'here', tab: this.tabId });
        if (this._leader) {
          this.broadcastState();
          this.post({ type: 'log', ...this.log.snapshot() });
        }
        return;
      case 'here':
        this.peers.add(message.tab);
        return;
      case 'bye':
        this.peers.delete(message.tab);
        return;
      case 'handover':
        // Kept even by a tab that leads already: until it has registered, that registration
        // is the device's.
        this.peers.delete(message.tab);
        this.handover = {
          from: message.tab,
          ...(message.registrationId ? { registrationId: message.registrationId } : {}),
          ...(message.appToken ? { appToken: message.appToken } : {}),
        };
        return;
    }
    if (this._leader) {
      if (message.type === 'signIn') this.signInNow();
      else if (message.type === 'signedOut' && this._state !== 'signedOut') this.enterSignedOut();
      return;
    }
    switch (message.type) {
      case 'state':
        // Another tab leads now: the one that handed over is gone for good.
        if (this.handover && message.tab !== this.handover.from) this.handover = null;
        if (message.state === 'stopped' || this._state === 'stopped') return;
        this.twilio = message.twilio;
        this.events.emit('twilio', message.twilio);
        this.setRealtimeState(message.realtime);
        if (message.state !== this._state) this.forceState(message.state);
        return;
      case 'events':
        if (this._state !== 'stopped') this.deliverEvents(message.events);
        return;
      case 'cursor':
        this.log.advance(message.cursor);
        return;
      case 'log':
        this.log.merge(message);
        return;
      case 'resync':
        if (this._state !== 'stopped') this.events.emit('resync', { reason: 'cursor_expired' });
        return;
    }
  }

  // ── the server's events ───────────────────────────────────────────────────

  /**
   * Events from the realtime channel (leader) or relayed by the leader (the other tabs): each
   * one the app has not had goes to it, in every tab. This device signed out from another one
   * signs out here, as a 410 `device_signed_out` would.
   */
  private deliverEvents(events: ServerEvent[]): void {
    const fresh = events.filter((event) => this.log.accept(event));
    if (fresh.length === 0) return;
    if (this._leader) this.post({ type: 'events', events: fresh });
    for (const event of fresh) {
      this.events.emit('event', event);
      if ((EVENT_TYPES as readonly string[]).includes(event.type)) {
        this.events.emit(event.type as KnownEventType, event as never);
      }
      if (this.signsThisDeviceOut(event)) {
        this.rememberSignedOut();
        this.enterSignedOut();
      }
    }
  }

  /** Signed out after its latest register: an older sign-out was lifted by a sign-in since. */
  private signsThisDeviceOut(event: ServerEvent): boolean {
    return (
      isEventOf(event, 'device.signedOut') &&
      event.data.deviceId === this.deviceId &&
      event.at >= this.registeredAt &&
      this._leader &&
      this._state !== 'signedOut' &&
      this._state !== 'stopped'
    );
  }

  private setRealtimeState(state: RealtimeState, broadcast = true): void {
    if (state === this._realtimeState) return;
    this._realtimeState = state;
    this.events.emit('realtime', { state });
    if (broadcast) this.broadcastState();
  }

  // ── storage ───────────────────────────────────────────────────────────────

  private loadDeviceId(): string {
    const storage = this.env.storage;
    const stored = storage?.getItem(STORAGE_KEYS.deviceId);
    if (stored && /^[A-Za-z0-9._:-]{1,128}$/.test(stored)) return stored;
    // Once per browser profile: a new id per load would push the user's other devices out.
    const id = `web_${this.env.randomUUID()}`;
    storage?.setItem(STORAGE_KEYS.deviceId, id);
    return id;
  }

  private isSignedOutStored(): boolean {
    return this.env.storage?.getItem(STORAGE_KEYS.signedOut) != null;
  }

  private rememberSignedOut(): void {
    this.env.storage?.setItem(STORAGE_KEYS.signedOut, String(this.env.now()));
  }
}

async function loadTwilioDevice(): Promise<TwilioDeviceClass> {
  const sdk: { Device: unknown } = await import('@twilio/voice-sdk');
  return sdk.Device as TwilioDeviceClass;
}
