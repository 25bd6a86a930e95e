// SoftphonePresence: the whole client lifecycle of docs/client-contract.md for one browser.
//
//   starting ──▶ live ◀──▶ reconnecting
//      │          │             │
//      └──────────┴─────────────┴──▶ signedOut | stopped
//
// One tab of a browser profile leads (Web Locks): it alone runs the Twilio Device, the
// heartbeats and the realtime channel; the other tabs wait for the lock, mirror the leader's
// state and get the server's events from it over a BroadcastChannel. This file holds the
// public class: starting, the lock, stopping, signing out, closing the page. request-loop.ts
// holds the leader's register and heartbeat loop and the Device, tab-presence.ts what every
// tab has (state, events, the other tabs), lifecycle.ts the states and what each holds.

import { PATHS } from './api.js';
import { CallHistory } from './call-history.js';
import { SmsInbox } from './inbox.js';
import { PresenceStatus, TeamPresence } from './people.js';
import type { SoftphonePresenceOptions, TwilioDeviceLike } from './options.js';
import { RequestLoop } from './request-loop.js';
import { forgetSignedOut, isSignedOutStored } from './storage.js';

export class SoftphonePresence extends RequestLoop {
  /** The user's SMS inbox: conversations, messages, read marks, sending, media. Usable in any tab. */
  readonly inbox: SmsInbox;
  /** The user's call history: recent calls, their seen mark, voicemail. Usable in any tab. */
  readonly history: CallHistory;
  /** The user's own status: read it, set it (available, away, do not disturb). Usable in any tab. */
  readonly status: PresenceStatus;
  /** The team's presence: pages, and live views (`watch()`). Usable in any tab. */
  readonly team: TeamPresence;

  constructor(options: SoftphonePresenceOptions) {
    super(options);
    this.inbox = new SmsInbox(this.env, this.api);
    this.history = new CallHistory(this.api);
    this.status = new PresenceStatus(this.api);
    this.team = new TeamPresence(this.api, this);
    this.env.page?.addEventListener('pagehide', () => this.onPageHide());
    this.env.page?.addEventListener('pageshow', (event) => {
      const now = this.lifecycle;
      if (event.persisted && now.state === 'stopped' && now.suspended) this.start();
    });
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
    if (options.signIn) {
      forgetSignedOut(this.env.storage);
      this.signInPending = true;
    }
    if (this.lifecycle.state !== 'stopped') {
      if (options.signIn) this.signInNow();
      return;
    }
    this.requestLead();
  }

  /**
   * Stop presence in this tab: unregister the device (a normal request) and destroy the Twilio
   * Device. Another open tab of this browser then takes over.
   */
  async stop(): Promise<void> {
    const now = this.lifecycle;
    if (now.state === 'stopped') return;
    const unregister = now.leader && now.state !== 'signedOut';
    const body = this.unregisterBody();
    const release = this.takeLockRelease();
    this.teardown(false);
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
    if (this.lifecycle.leader) this.enterSignedOut();
    else this.post({ type: 'signedOut' });
    this.mirror('signedOut');
    await this.call(PATHS.unregister, { deviceId: this.deviceId, signOut: true });
  }

  // ── leadership ────────────────────────────────────────────────────────────

  /** `starting`, following until the lock is this tab's (at once without Web Locks). */
  private requestLead(): void {
    const locks = this.env.locks;
    const request = locks ? new AbortController() : null;
    this.enter({ state: 'starting', leader: false, lockRequest: request });
    this.tabs.open();
    if (!locks || !request) {
      this.lead(() => {});
      return;
    }
    locks
      .request(`softphone-presence:${this.deviceId}`, { signal: request.signal }, () => {
        const now = this.lifecycle;
        if (now.leader || now.state === 'stopped' || now.lockRequest !== request) return;
        // Held for as long as this tab runs presence: closing the tab releases it at once.
        return new Promise<void>((release) => this.lead(release));
      })
      .catch(() => {
        // Aborted by stop() or pagehide while another tab led.
      });
  }

  private lead(releaseLock: () => void): void {
    this.twilio = { state: undefined };
    // What it mirrored was the previous leader's channel; its own opens once it is live.
    this.setRealtimeState('closed', false);
    if (isSignedOutStored(this.env.storage) && !this.signInPending) {
      this.enter({ state: 'signedOut', leader: true, releaseLock });
    } else {
      this.beginRun(releaseLock);
    }
    // The other tabs learn who leads now, even when the state did not change.
    this.broadcastState();
  }

  /** The lock's release (called once the caller is done), the request for it withdrawn. */
  private takeLockRelease(): () => void {
    const now = this.lifecycle;
    if (now.leader) return now.releaseLock;
    if (now.state !== 'stopped') now.lockRequest?.abort();
    return () => {};
  }

  protected signInNow(): void {
    const now = this.lifecycle;
    if (!now.leader) {
      this.post({ type: 'signIn' });
      return;
    }
    this.signInPending = true;
    if (now.state === 'signedOut') this.beginRun(now.releaseLock);
    else this.askRegister();
  }

  // ── ending ────────────────────────────────────────────────────────────────

  protected enterSignedOut(): void {
    const now = this.lifecycle;
    if (!now.leader) return;
    this.endRun();
    // The lock stays taken: the other tabs would only find the device signed out too.
    this.enter({ state: 'signedOut', leader: true, releaseLock: now.releaseLock });
  }

  protected stopAfterError(): void {
    this.takeLockRelease()();
    this.teardown(false);
  }

  /** Stopped; `suspended` by pagehide (a pageshow from the back/forward cache starts again). */
  private teardown(suspended: boolean): void {
    this.endRun();
    this.enter({ state: 'stopped', leader: false, suspended });
    this.setRealtimeState('closed');
    this.tabs.close();
  }

  private unregisterBody(registrationId = this.registration?.registrationId): object {
    return { deviceId: this.deviceId, ...(registrationId ? { registrationId } : {}) };
  }

  /**
   * The page goes away. The leading tab hands over when other tabs of this browser stay open:
   * the next one takes the lock and registers the same device id at once, and an unregister
   * racing that register could drop the device from the user's list (calls in that moment
   * would go to voicemail). The last tab unregisters, with `keepalive`.
   */
  private onPageHide(): void {
    const now = this.lifecycle;
    if (now.state === 'stopped') return;
    const { handover, peers } = this.tabs;
    const registration = this.registration;
    const registrationId = registration?.registrationId ?? handover?.registrationId;
    const token = this.api.lastToken ?? handover?.appToken;
    const running = now.leader && now.state !== 'signedOut';
    if (running && peers.size > 0) {
      // Same-origin tabs of one profile: each of them could ask the app for the token itself.
      this.post({
        type: 'handover',
        tab: this.tabs.tabId,
        ...(registrationId ? { registrationId } : {}),
        ...(token ? { appToken: token } : {}),
      });
    } else if (peers.size === 0 && token && (running ? registration || handover : handover)) {
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
    this.teardown(true);
  }
}
