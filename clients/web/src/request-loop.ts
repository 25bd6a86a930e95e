// What the leading tab runs while it is starting, live or reconnecting: one request at a time
// (register when needed or once the TTL has passed, else heartbeat), the next one on a timer
// (the heartbeat interval with jitter, or the backoff), the Twilio Device and the realtime
// channel, and the end of a run (signed out, stopped). Socket presence: while the realtime
// channel is open (and the server says it keeps presence by it) no heartbeat is sent, its pings
// keep the device live; when it goes down, a heartbeat follows half its grace later, while the
// device is still live, unless it is back by then. Each run is a `Run` (lifecycle.ts): an
// answer that comes after its run ended is dropped. presence.ts decides when a run begins.

import { PATHS } from './api.js';
import type { HeartbeatResponse, PresenceSettings, RegisterResponse, SocketPresence, StoredDevice } from './api.js';
import { backoffMs } from './backoff.js';
import { labelFromUserAgent } from './environment.js';
import { Run, isRunning } from './lifecycle.js';
import type { Live, Reconnecting, Registered, Running } from './lifecycle.js';
import type { SoftphonePresenceOptions, TwilioStatus } from './options.js';
import type { Outcome } from './outcome.js';
import { RealtimeChannel } from './realtime.js';
import { TabPresence } from './tab-presence.js';
import { TwilioDeviceRunner } from './twilio-device.js';

const JITTER = 0.1;
const MIN_BACKOFF_MS = 500;
const DEFAULT_INTERVAL_SECONDS = 60;
/** How soon a changed Twilio state is reported, so that a flapping Device costs few requests. */
const REPORT_DELAY_MS = 1_000;

export abstract class RequestLoop extends TabPresence {
  private readonly label: string;
  /** The user asked to sign in: the next register says so (kept until one has, or `signOut()`). */
  protected signInPending = false;
  /** The Twilio Device, run by the leading tab. */
  protected readonly runner: TwilioDeviceRunner;
  /** Runs in the leading tab while it is registered; `null` without WebSockets. */
  protected readonly realtime: RealtimeChannel | null;
  /** Until when a realtime connection that went down still keeps the device live (its grace). */
  private socketGraceUntilMs = 0;

  constructor(options: SoftphonePresenceOptions) {
    super(options);
    this.label = (options.label ?? labelFromUserAgent(this.env.userAgent)).slice(0, 64);
    this.runner = new TwilioDeviceRunner({
      Device: options.Device,
      deviceOptions: options.deviceOptions,
      status: () => this.twilio,
      setStatus: (status) => this.setTwilio(status),
      created: (device) => this.events.emit('device', device),
      failed: (error) => this.events.emit('error', error),
      renew: () => this.askRegister(),
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
          notRegistered: () => this.askRegister(),
          state: (state) => {
            this.setRealtimeState(state);
            this.socketChanged();
          },
          socket: () => this.socketPresence(),
          report: () => this.twilioReport(),
          reported: (report) => this.twilioReported(report),
          teams: () => [...this.teams],
          teamPresence: (data) => this.deliverTeamPresence(data),
        })
      : null;
  }

  /** The leading tab subscribes its open realtime connection to a team a tab asked for. */
  protected subscribeTeam(team: string): void {
    this.realtime?.subscribe(team);
  }

  /** The last register-device response of this run (token, assigned phones, device, presence). */
  get registration(): RegisterResponse | null {
    return isRunning(this.lifecycle) ? (this.lifecycle.device?.registration ?? null) : null;
  }

  // ── a run ─────────────────────────────────────────────────────────────────

  /** Begin a run of the request loop: `starting`, and a register at once. */
  protected beginRun(releaseLock: () => void): void {
    const run = new Run();
    this.enter({ state: 'starting', leader: true, releaseLock, run, device: null, registerNext: true });
    if (this.current(run)) this.schedule(run, 0);
  }

  /** The run is over: no timer, no request, no realtime channel, no Device. The caller leaves its state. */
  protected endRun(): void {
    const now = this.lifecycle;
    if (isRunning(now)) {
      if (now.run.next.kind === 'waiting') this.env.clearTimeout(now.run.next.timer);
      now.run.next = { kind: 'ended' };
    }
    this.realtime?.stop();
    this.runner.destroy();
  }

  /** Register again for a fresh token (then `device.updateToken(token)`), or to sign in. */
  protected askRegister(): void {
    const now = this.lifecycle;
    if (!isRunning(now) || now.run.next.kind === 'ended') return;
    this.enter({ ...now, registerNext: true });
    if (now.run.next.kind === 'requesting') now.run.next.registerAfter = true;
    else this.schedule(now.run, 0);
  }

  /** The running state of `run`, or `null` once that run has ended. */
  private current(run: Run): Running | null {
    const now = this.lifecycle;
    return isRunning(now) && now.run === run && run.next.kind !== 'ended' ? now : null;
  }

  // ── the request loop ──────────────────────────────────────────────────────

  private schedule(run: Run, ms: number): void {
    if (run.next.kind === 'waiting') this.env.clearTimeout(run.next.timer);
    const due = this.env.now() + ms;
    const timer = this.env.setTimeout(() => void this.step(run), ms);
    run.next = { kind: 'waiting', timer, due };
  }

  /** One request: register when needed (or when the TTL has passed), else heartbeat; then the next. */
  private async step(run: Run): Promise<void> {
    const now = this.current(run);
    if (!now || run.next.kind !== 'waiting') return;
    const flight = { kind: 'requesting' as const, registerAfter: false };
    run.next = flight;
    const { device } = now;
    if (!now.registerNext && device && this.socketHolds()) {
      // Its pings keep the device live (and carry a changed Twilio state); the channel going
      // down schedules the next heartbeat.
      if (this.twilioReport().twilioState !== undefined) this.realtime?.pingNow();
      run.next = { kind: 'idle' };
      return;
    }
    const expired = device && this.env.now() >= Math.max(device.expiresAtMs, this.socketGraceUntilMs);
    const delay = now.registerNext || !device || expired ? await this.register(run) : await this.heartbeat(run, device);
    const after = this.current(run);
    if (!after) return;
    if (delay === null) {
      // Nothing to schedule (an answer the loop has no rule for): the next askRegister starts it again.
      run.next = { kind: 'idle' };
      return;
    }
    // tokenWillExpire or a sign-in came while the request was in flight. While reconnecting,
    // the next try (after its backoff) registers anyway.
    const again = flight.registerAfter && after.registerNext && after.state === 'live';
    this.schedule(run, again ? 0 : delay);
  }

  /** The delay before the next request, or `null` for none (the run ended meanwhile). */
  private async register(run: Run): Promise<number | null> {
    const signIn = this.signInPending;
    const outcome = await this.call(PATHS.register, {
      deviceId: this.deviceId,
      platform: 'web',
      label: this.label,
      capabilities: this.options.capabilities ?? ['voice'],
      ...(this.twilio.state ? { twilioState: this.twilio.state } : {}),
      ...(signIn ? { signIn: true } : {}),
    });
    const now = this.current(run);
    if (!now) return null;
    if (outcome.kind !== 'ok') return this.failed(now, outcome);
    const registration = outcome.body as RegisterResponse;
    if (signIn) this.signInPending = false;
    const device: Registered = {
      ...noted(now.device, registration.device, registration.presence),
      registration,
      reportedTwilioState: this.twilio.state,
    };
    // Still starting or reconnecting until the Device has the token.
    this.enter(now.state === 'reconnecting' ? { ...now, device, registerNext: this.signInPending, failures: 0 } : { ...now, device, registerNext: this.signInPending });
    this.tabs.handover = null;
    this.events.emit('registered', registration);
    if (registration.evictedDeviceIds?.length) {
      this.events.emit('evicted', { deviceIds: registration.evictedDeviceIds });
    }
    await this.runner.use(registration.token, () => this.current(run) !== null);
    const after = this.current(run);
    if (!after) return null;
    this.enter(live(after, device));
    this.realtime?.start();
    this.realtime?.registered();
    // A new Device has started registering with Twilio since: report that soon.
    const changed = this.runner.device !== null && this.twilio.state !== device.reportedTwilioState;
    return changed ? REPORT_DELAY_MS : this.jittered(device.intervalSeconds);
  }

  private async heartbeat(run: Run, device: Registered): Promise<number | null> {
    const twilioState = this.twilio.state;
    // Only a changed state is sent: the server writes the device's state (and an event for the
    // user's other devices) in a transaction whenever a heartbeat reports one.
    const report = twilioState !== undefined && twilioState !== device.reportedTwilioState;
    // Where register said to send heartbeats (its own URL in AWS: no API Gateway request), else the API's path.
    const url = device.registration.presence?.heartbeatUrl ?? PATHS.heartbeat;
    const outcome = await this.call(url, {
      deviceId: this.deviceId,
      ...(report ? { twilioState } : {}),
    });
    const now = this.current(run);
    if (!now) return null;
    if (outcome.kind !== 'ok') return this.failed(now, outcome);
    const beat = outcome.body as HeartbeatResponse;
    const next: Registered = { ...device, ...noted(device, beat.device, beat.presence), reportedTwilioState: twilioState };
    this.enter(live(now, next));
    return this.jittered(next.intervalSeconds);
  }

  /** What a refused or failed request leads to: the delay before the next, or `null` for none. */
  private failed(now: Running, outcome: Exclude<Outcome, { kind: 'ok' }>): number | null {
    const failures = now.state === 'reconnecting' ? now.failures : 0;
    switch (outcome.kind) {
      case 'notRegistered':
        // Expired, evicted or unregistered (another tab's pagehide): only register brings it back.
        this.enter(reconnecting(now, failures, true), 'device_not_registered');
        return 0;
      case 'signedOut':
        this.rememberSignedOut();
        this.enterSignedOut();
        return null;
      case 'transient':
        this.enter(reconnecting(now, failures + 1, now.registerNext), outcome.reason);
        return this.backoff(failures + 1, outcome.retryAfterMs, now.device);
      case 'unauthorized':
        this.events.emit('error', outcome.error);
        this.options.onSignInRequired?.();
        this.stopAfterError();
        return null;
      case 'fatal':
        this.events.emit('error', outcome.error);
        this.stopAfterError();
        return null;
      case 'cursorExpired':
        // Only the event log answers it, never register or heartbeat.
        return null;
    }
  }

  /** A refusal that no retry mends (401 twice, a 400): stop, and let another tab try. */
  protected abstract stopAfterError(): void;

  private jittered(seconds: number): number {
    return seconds * 1000 * (1 - JITTER + 2 * JITTER * this.env.random());
  }

  /** Retry-After when the server gave one, else exponential with jitter, inside the TTL. */
  private backoff(failures: number, retryAfterMs: number | undefined, device: Registered | null): number {
    if (retryAfterMs !== undefined) return retryAfterMs;
    const delay = backoffMs(failures, () => this.env.random());
    const left = (device?.expiresAtMs ?? 0) - this.env.now();
    // Try at least twice more before the TTL runs out; once it has, the next try registers.
    return left > 0 ? Math.min(delay, Math.max(MIN_BACKOFF_MS, left / 2)) : delay;
  }

  protected call(path: string, body: object): Promise<Outcome> {
    return this.api.request('POST', path, body);
  }

  // ── socket presence ───────────────────────────────────────────────────────

  /** The server's socket presence settings, from the last register of this run. */
  private socketPresence(): SocketPresence | null {
    return this.registration?.presence?.socket ?? null;
  }

  /** The realtime channel is open and keeps the device live: no heartbeats. */
  private socketHolds(): boolean {
    return this.realtime?.state === 'connected' && this.socketPresence() !== null;
  }

  /** The channel opened (a Twilio state not yet told goes in a ping now) or went down (a heartbeat within the grace if it stays down). */
  private socketChanged(): void {
    const socket = this.socketPresence();
    const now = this.lifecycle;
    if (!socket || !isRunning(now) || !now.leader) return;
    if (this.realtime?.state === 'connected') {
      if (this.twilioReport().twilioState !== undefined) this.realtime.pingNow();
      return;
    }
    if (this.realtime?.state !== 'connecting') return;
    const next = now.run.next;
    if (next.kind === 'ended' || next.kind === 'requesting') return;
    const graceMs = socket.graceSeconds * 1000;
    this.socketGraceUntilMs = this.env.now() + graceMs;
    const due = this.env.now() + graceMs / 2;
    if (next.kind === 'waiting' && next.due <= due) return;
    this.schedule(now.run, graceMs / 2);
  }

  /** A Twilio state the server has not been told of, for the next ping. */
  private twilioReport(): { twilioState?: string } {
    const now = this.lifecycle;
    const state = this.twilio.state;
    if (!isRunning(now) || !now.device || state === undefined || state === now.device.reportedTwilioState) return {};
    return { twilioState: state };
  }

  private twilioReported(report: { twilioState?: string }): void {
    const now = this.lifecycle;
    if (!isRunning(now) || now.state !== 'live' || report.twilioState === undefined) return;
    this.enter(live(now, { ...now.device, reportedTwilioState: report.twilioState as Registered['reportedTwilioState'] }));
  }

  // ── the Twilio Device ─────────────────────────────────────────────────────

  private setTwilio(status: TwilioStatus): void {
    this.twilio = status;
    this.events.emit('twilio', status);
    this.broadcastState();
    // Report a changed Twilio state soon rather than at the next heartbeat (or ping).
    const now = this.lifecycle;
    if (this.runner.device !== null && now.state === 'live' && now.leader && this.socketHolds()) {
      if (status.state !== now.device.reportedTwilioState) this.realtime?.pingNow();
      return;
    }
    if (
      this.runner.device !== null &&
      now.state === 'live' &&
      now.leader &&
      status.state !== now.device.reportedTwilioState &&
      now.run.next.kind === 'waiting' &&
      now.run.next.due > this.env.now() + REPORT_DELAY_MS
    ) {
      this.schedule(now.run, REPORT_DELAY_MS);
    }
  }
}

function live(from: Running, device: Registered): Live {
  const { releaseLock, run, registerNext } = from;
  return { state: 'live', leader: true, releaseLock, run, device, registerNext };
}

function reconnecting(from: Running, failures: number, registerNext: boolean): Reconnecting {
  const { releaseLock, run, device } = from;
  return { state: 'reconnecting', leader: true, releaseLock, run, device, registerNext, failures };
}

/** The TTL and interval a response gave (each kept from before when it gave none). */
function noted(
  before: Registered | null,
  device: StoredDevice | undefined,
  presence: PresenceSettings | undefined,
): Pick<Registered, 'expiresAtMs' | 'intervalSeconds'> {
  return {
    expiresAtMs: device?.expiresAt ? device.expiresAt * 1000 : (before?.expiresAtMs ?? 0),
    intervalSeconds: presence?.heartbeatIntervalSeconds || before?.intervalSeconds || DEFAULT_INTERVAL_SECONDS,
  };
}
