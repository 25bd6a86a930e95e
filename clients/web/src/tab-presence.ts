// What every tab of a browser profile knows and shows, leading or not: the presence state (the
// leading tab's own, which the others mirror), the Twilio and realtime status, the server's
// events handed to the app once each, and the messages of the other tabs. The tab's lifecycle
// is one value (lifecycle.ts); request-loop.ts adds the leading tab's requests and Device,
// presence.ts (SoftphonePresence) the lock, starting and stopping.

import { Emitter } from './emitter.js';
import { browserEnvironment } from './environment.js';
import type { Clock, Environment } from './environment.js';
import { EVENT_TYPES, EventLog, isEventOf } from './events.js';
import type { KnownEventType, ServerEvent } from './events.js';
import { ApiClient } from './http.js';
import { STOPPED } from './lifecycle.js';
import type { Following, Lifecycle } from './lifecycle.js';
import { TRANSITIONS } from './options.js';
import type { PresenceEvents, PresenceState, SoftphonePresenceOptions, TwilioStatus } from './options.js';
import type { RealtimeState } from './realtime.js';
import { loadDeviceId, rememberSignedOut } from './storage.js';
import { isPersonPresence } from './people.js';
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
  /** The state, whether this tab leads, and what that state holds. Changed only by `enter`. */
  protected lifecycle: Lifecycle = STOPPED;
  protected twilio: TwilioStatus = { state: undefined };
  protected _realtimeState: RealtimeState = 'closed';
  /** Which events the app has seen, and where the next catch-up starts (kept in every tab). */
  protected readonly log = new EventLog();
  /** The teams watched (`"org"`, group ids): this tab's, and in the leader every tab's. */
  protected readonly teams = new Set<string>();

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
        if (!this.lifecycle.leader) return;
        this.broadcastState();
        this.post({ type: 'log', ...this.log.snapshot() });
      },
      message: (message) => this.onTabMessage(message),
    });
  }

  get state(): PresenceState {
    return this.lifecycle.state;
  }

  /** Whether this tab runs the Twilio Device and the heartbeats for the browser. */
  get isLeader(): boolean {
    return this.lifecycle.leader;
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

  /** In the leading tab: subscribe the realtime connection to `team` now. */
  protected abstract subscribeTeam(team: string): void;

  /**
   * Watch a team's presence (`"org"` or a group id): `teamPresence` then comes in every tab.
   * The leading tab subscribes its realtime connection (again on every connection); another tab
   * asks it to.
   */
  watchTeam(team: string): void {
    const fresh = !this.teams.has(team);
    this.teams.add(team);
    if (this.lifecycle.leader) {
      if (fresh) this.subscribeTeam(team);
    } else {
      this.post({ type: 'watch', team });
    }
  }

  /** A `team.presence` from the realtime channel (leader) or relayed by the leader. */
  protected deliverTeamPresence(data: unknown): void {
    if (!isPersonPresence(data) || this.lifecycle.state === 'stopped') return;
    if (this.lifecycle.leader) this.post({ type: 'team', person: data });
    this.events.emit('teamPresence', data);
  }
  /** In the leading tab: stop everything, the device was signed out. */
  protected abstract enterSignedOut(): void;

  // ── state and the other tabs ──────────────────────────────────────────────

  /**
   * Move to `next` and tell the app what changed (`leader`, then `state`) and the other tabs. A
   * leader that stays one follows TRANSITIONS; a follower mirrors, a new leader starts over.
   */
  protected enter(next: Lifecycle, reason?: string): void {
    const previous = this.lifecycle;
    if (previous.leader && next.leader && next.state !== previous.state && !TRANSITIONS[previous.state].includes(next.state)) {
      throw new Error(`softphone-presence: no transition ${previous.state} → ${next.state}`);
    }
    this.lifecycle = next;
    if (next.leader !== previous.leader) this.events.emit('leader', { leader: next.leader });
    if (next.state === previous.state) return;
    this.events.emit('state', { state: next.state, previous: previous.state, leader: next.leader, ...(reason ? { reason } : {}) });
    this.broadcastState();
  }

  protected post(message: TabMessage): void {
    this.tabs.post(message);
  }

  protected broadcastState(): void {
    const { leader, state } = this.lifecycle;
    if (leader) this.post({ type: 'state', tab: this.tabs.tabId, state, twilio: this.twilio, realtime: this._realtimeState });
  }

  private onTabMessage(message: LifecycleMessage): void {
    if (this.lifecycle.leader) {
      if (message.type === 'signIn') this.signInNow();
      else if (message.type === 'signedOut' && this.lifecycle.state !== 'signedOut') this.enterSignedOut();
      else if (message.type === 'watch' && !this.teams.has(message.team)) {
        this.teams.add(message.team);
        this.subscribeTeam(message.team);
      }
      return;
    }
    switch (message.type) {
      case 'state':
        // Another tab leads now: the one that handed over is gone for good.
        if (this.tabs.handover && message.tab !== this.tabs.handover.from) this.tabs.handover = null;
        if (message.state === 'stopped' || this.lifecycle.state === 'stopped') return;
        this.twilio = message.twilio;
        this.events.emit('twilio', message.twilio);
        this.setRealtimeState(message.realtime);
        this.mirror(message.state);
        // A new leader learns what this tab watches (the same again changes nothing).
        for (const team of this.teams) this.post({ type: 'watch', team });
        return;
      case 'team':
        if (this.lifecycle.state !== 'stopped') this.events.emit('teamPresence', message.person);
        return;
      case 'watch':
        return;
      case 'events':
        if (this.lifecycle.state !== 'stopped') this.deliverEvents(message.events);
        return;
      case 'cursor':
        this.log.advance(message.cursor);
        return;
      case 'log':
        this.log.merge(message);
        return;
      case 'resync':
        if (this.lifecycle.state !== 'stopped') this.events.emit('resync', { reason: 'cursor_expired' });
        return;
    }
  }

  /** A tab that follows shows the leading tab's state. */
  protected mirror(state: Following['state']): void {
    const now = this.lifecycle;
    if (now.leader || now.state === 'stopped' || now.state === state) return;
    this.enter({ ...now, state });
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
    if (this.lifecycle.leader) this.post({ type: 'events', events: fresh });
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
    const now = this.lifecycle;
    // Only a leader that runs has a registration (its realtime channel runs once it is live).
    if (!now.leader || now.state === 'signedOut') return false;
    // When the device last registered, by the server's clock.
    const registeredAt = now.device?.registration.device?.lastSeen ?? 0;
    return isEventOf(event, 'device.signedOut') && event.data.deviceId === this.deviceId && event.at >= registeredAt;
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
