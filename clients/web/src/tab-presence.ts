// What every tab of a browser profile knows and shows, leading or not: the presence state (the
// leading tab's own, which the others mirror), the Twilio and realtime status, the server's
// events handed to the app once each, and the messages of the other tabs. SoftphonePresence
// (softphone-presence.ts) adds what the leading tab does: the lock, the requests, the Device.

import { Emitter } from './emitter.js';
import { browserEnvironment } from './environment.js';
import type { Clock, Environment } from './environment.js';
import { EVENT_TYPES, EventLog, isEventOf } from './events.js';
import type { KnownEventType, ServerEvent } from './events.js';
import { ApiClient } from './http.js';
import { TRANSITIONS } from './options.js';
import type { PresenceEvents, PresenceState, SoftphonePresenceOptions, TwilioStatus } from './options.js';
import type { RealtimeState } from './realtime.js';
import { loadDeviceId, rememberSignedOut } from './storage.js';
import { Tabs } from './tabs.js';
import type { LifecycleMessage, TabMessage } from './tabs.js';

export abstract class TabPresence {
  /** `web_` + a UUID, created once per browser profile and kept in localStorage. */
  readonly deviceId: string;

  protected readonly env: Environment;
  /** The clock and timers of its environment (the browser's, or `options.environment`'s): what RecentCalls waits with. */
  readonly clock: Clock;
  protected readonly options: SoftphonePresenceOptions;
  protected readonly events = new Emitter<PresenceEvents>();
  protected readonly api: ApiClient;
  /** The other tabs of this browser profile. */
  protected readonly tabs: Tabs;
  protected _state: PresenceState = 'stopped';
  protected _leader = false;
  /** The `leader` flag last announced with a `leader` event. */
  private announcedLeader = false;
  protected twilio: TwilioStatus = { state: undefined };
  protected _realtimeState: RealtimeState = 'closed';
  /** Which events the app has seen, and where the next catch-up starts (kept in every tab). */
  protected readonly log = new EventLog();
  /** When the device last registered, by the server's clock (`device.lastSeen` of the response). */
  protected registeredAt = 0;

  constructor(options: SoftphonePresenceOptions) {
    this.options = options;
    this.env = { ...browserEnvironment(), ...options.environment };
    const env = this.env;
    this.clock = {
      now: () => env.now(),
      setTimeout: (callback, ms) => env.setTimeout(callback, ms),
      clearTimeout: (handle) => env.clearTimeout(handle),
    };
    this.deviceId = loadDeviceId(this.env.storage, () => this.env.randomUUID());
    this.api = new ApiClient(this.env, options.apiBaseUrl, options.getAppToken);
    this.tabs = new Tabs(this.env.BroadcastChannel, `softphone-presence:${this.deviceId}`, this.env.randomUUID(), {
      greet: () => {
        if (!this._leader) return;
        this.broadcastState();
        this.post({ type: 'log', ...this.log.snapshot() });
      },
      message: (message) => this.onTabMessage(message),
    });
  }

  get state(): PresenceState {
    return this._state;
  }

  /** Whether this tab runs the Twilio Device and the heartbeats for the browser. */
  get isLeader(): boolean {
    return this._leader;
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

  /** In the leading tab: sign in (register with `signIn: true`); elsewhere, ask the leader to. */
  protected abstract signInNow(): void;
  /** In the leading tab: stop everything, the device was signed out. */
  protected abstract enterSignedOut(): void;

  // ── state and the other tabs ──────────────────────────────────────────────

  protected setState(next: PresenceState, reason?: string): void {
    if (next === this._state) return;
    if (this._leader && !TRANSITIONS[this._state].includes(next)) {
      throw new Error(`softphone-presence: no transition ${this._state} → ${next}`);
    }
    this.forceState(next, reason);
  }

  /** Change state without the leader's rules: a follower mirrors, a new leader starts over. */
  protected forceState(next: PresenceState, reason?: string): void {
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

  protected post(message: TabMessage): void {
    this.tabs.post(message);
  }

  protected broadcastState(): void {
    if (this._leader && this._state !== 'stopped') {
      this.post({ type: 'state', tab: this.tabs.tabId, state: this._state, twilio: this.twilio, realtime: this._realtimeState });
    }
  }

  private onTabMessage(message: LifecycleMessage): void {
    if (this._leader) {
      if (message.type === 'signIn') this.signInNow();
      else if (message.type === 'signedOut' && this._state !== 'signedOut') this.enterSignedOut();
      return;
    }
    switch (message.type) {
      case 'state':
        // Another tab leads now: the one that handed over is gone for good.
        if (this.tabs.handover && message.tab !== this.tabs.handover.from) this.tabs.handover = null;
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
  protected deliverEvents(events: ServerEvent[]): void {
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

  protected setRealtimeState(state: RealtimeState, broadcast = true): void {
    if (state === this._realtimeState) return;
    this._realtimeState = state;
    this.events.emit('realtime', { state });
    if (broadcast) this.broadcastState();
  }

  // ── storage ───────────────────────────────────────────────────────────────

  protected rememberSignedOut(): void {
    rememberSignedOut(this.env.storage, this.env.now());
  }
}
