// SoftphonePresence: the whole client lifecycle of docs/client-contract.md for one browser.
//
//   starting ──▶ live ◀──▶ reconnecting
//      │          │             │
//      └──────────┴─────────────┴──▶ signedOut | stopped
//
// One tab of a browser profile leads (Web Locks): it alone runs the Twilio Device, the
// heartbeats and the realtime channel; the other tabs wait for the lock, mirror the leader's
// state and get the server's events from it over a BroadcastChannel. This file holds the
// leader's part (the lock, the register and heartbeat loop, the Device, closing the page);
// tab-presence.ts what every tab has (state, events, the other tabs).

import { labelFromUserAgent } from './environment.js';
import { PATHS } from './api.js';
import type { HeartbeatResponse, PresenceSettings, RegisterResponse, StoredDevice, TwilioState } from './api.js';
import { backoffMs } from './backoff.js';
import type { SoftphonePresenceOptions, TwilioDeviceLike, TwilioStatus } from './options.js';
import type { Outcome } from './outcome.js';
import { RealtimeChannel } from './realtime.js';
import { SmsInbox } from './inbox.js';
import { CallHistory } from './call-history.js';
import { forgetSignedOut, isSignedOutStored } from './storage.js';
import { TabPresence } from './tab-presence.js';
import { TwilioDeviceRunner } from './twilio-device.js';

const JITTER = 0.1;
const MIN_BACKOFF_MS = 500;
/** How soon a changed Twilio state is reported, so that a flapping Device costs few requests. */
const REPORT_DELAY_MS = 1_000;

export class SoftphonePresence extends TabPresence {
  /** The user's SMS inbox: conversations, messages, read marks, sending, media. Usable in any tab. */
  readonly inbox: SmsInbox;
  /** The user's call history: recent calls, their seen mark, voicemail. Usable in any tab. */
  readonly history: CallHistory;
  private readonly label: string;
  private _registration: RegisterResponse | null = null;

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
  private releaseLock: (() => void) | null = null;
  private lockRequest: AbortController | null = null;
  /** Torn down by `pagehide`: a `pageshow` from the back/forward cache starts again. */
  private suspended = false;
  /** The Twilio Device, run by the leading tab. */
  private readonly runner: TwilioDeviceRunner;
  /** Runs in the leading tab while it is registered; `null` without WebSockets. */
  private readonly realtime: RealtimeChannel | null;

  constructor(options: SoftphonePresenceOptions) {
    super(options);
    this.label = (options.label ?? labelFromUserAgent(this.env.userAgent)).slice(0, 64);
    this.inbox = new SmsInbox(this.env, this.api);
    this.history = new CallHistory(this.api);
    this.runner = new TwilioDeviceRunner({
      Device: options.Device,
      deviceOptions: options.deviceOptions,
      status: () => this.twilio,
      setStatus: (status) => this.setTwilio(status),
      created: (device) => this.events.emit('device', device),
      failed: (error) => this.events.emit('error', error),
      renew: () => this.renew(),
    });
    this.realtime = this.env.WebSocket
      ? new RealtimeChannel({
          env: this.env,
          deviceId: this.deviceId,
          log: this.log,
          request: (method, path, body) => this.api.request(method, path, body),
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

  /** The last register-device response of this tab (token, assigned phones, device, presence). */
  get registration(): RegisterResponse | null {
    return this._registration;
  }

  /** The Twilio Device this tab runs, if it leads. */
  get device(): TwilioDeviceLike | null {
    return this.runner.device;
  }

  /**
   * Start presence for this browser. Without `signIn` (a page load, a restored tab) a device that
   * was signed out stays signed out; `signIn: true` means the user just signed in and brings it
   * back. Calling it again while running only forwards a sign-in to the tab that leads.
   */
  start(options: { signIn?: boolean } = {}): void {
    this.suspended = false;
    if (options.signIn) {
      forgetSignedOut(this.env.storage);
      this.signInPending = true;
    }
    if (this._state !== 'stopped') {
      if (options.signIn) this.signInNow();
      return;
    }
    this.setState('starting');
    this.tabs.open();
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
    if (isSignedOutStored(this.env.storage) && !this.signInPending) {
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

  protected signInNow(): void {
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
    this.tabs.handover = null;
    this.registeredAt = registration.device?.lastSeen ?? 0;
    this.reportedTwilioState = this.twilio.state;
    this.noteDevice(registration.device, registration.presence);
    this.events.emit('registered', registration);
    if (registration.evictedDeviceIds?.length) {
      this.events.emit('evicted', { deviceIds: registration.evictedDeviceIds });
    }
    await this.runner.use(registration.token, () => run === this.run);
    if (run !== this.run) return;
    this.setState('live');
    this.realtime?.start();
    this.realtime?.registered();
    // A new Device has started registering with Twilio since: report that soon.
    const changed = this.runner.device !== null && this.twilio.state !== this.reportedTwilioState;
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
    const delay = backoffMs(this.failures, () => this.env.random());
    const left = this.expiresAtMs - this.env.now();
    // Try at least twice more before the TTL runs out; once it has, the next try registers.
    return left > 0 ? Math.min(delay, Math.max(MIN_BACKOFF_MS, left / 2)) : delay;
  }

  // ── HTTP ──────────────────────────────────────────────────────────────────

  private call(path: string, body: object): Promise<Outcome> {
    return this.api.request('POST', path, body);
  }

  private unregisterBody(registrationId = this._registration?.registrationId): object {
    return { deviceId: this.deviceId, ...(registrationId ? { registrationId } : {}) };
  }

  // ── the Twilio Device ─────────────────────────────────────────────────────

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
      this.runner.device !== null &&
      this._state === 'live' &&
      status.state !== this.reportedTwilioState &&
      !this.busy &&
      this.timer !== null &&
      this.timerDue > this.env.now() + REPORT_DELAY_MS
    ) {
      this.setTimer(REPORT_DELAY_MS);
    }
  }

  // ── ending ────────────────────────────────────────────────────────────────

  protected enterSignedOut(): void {
    this.run += 1;
    this.busy = false;
    this.clearTimer();
    this.realtime?.stop();
    this.runner.destroy();
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
    this.runner.destroy();
    this._registration = null;
    this.expiresAtMs = 0;
    this._leader = false;
    this.setState(to);
    this.setRealtimeState('closed');
    this.tabs.close();
  }

  /**
   * The page goes away. The leading tab hands over when other tabs of this browser stay open:
   * the next one takes the lock and registers the same device id at once, and an unregister
   * racing that register could drop the device from the user's list (calls in that moment
   * would go to voicemail). The last tab unregisters, with `keepalive`.
   */
  private onPageHide(): void {
    if (this._state === 'stopped') return;
    const { handover, peers } = this.tabs;
    const registrationId = this._registration?.registrationId ?? handover?.registrationId;
    const token = this.api.lastToken ?? handover?.appToken;
    const running = this._leader && this._state !== 'signedOut';
    if (running && peers.size > 0) {
      // Same-origin tabs of one profile: each of them could ask the app for the token itself.
      this.post({
        type: 'handover',
        tab: this.tabs.tabId,
        ...(registrationId ? { registrationId } : {}),
        ...(token ? { appToken: token } : {}),
      });
    } else if (peers.size === 0 && token && (running ? this._registration || handover : handover)) {
      // The last tab: the leader, or a tab handed over to that closes before it registered.
      // No await is possible here. keepalive lets the request outlive the page; the
      // registrationId makes the server ignore it if a tab has registered since.
      this.env
        .fetch(this.api.url(PATHS.unregister), {
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
}
