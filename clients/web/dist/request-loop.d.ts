import type { RegisterResponse } from './api.js';
import type { SoftphonePresenceOptions } from './options.js';
import type { Outcome } from './outcome.js';
import { RealtimeChannel } from './realtime.js';
import { TabPresence } from './tab-presence.js';
import { TwilioDeviceRunner } from './twilio-device.js';
export declare abstract class RequestLoop extends TabPresence {
    private readonly label;
    /** The user asked to sign in: the next register says so (kept until one has, or `signOut()`). */
    protected signInPending: boolean;
    /** The Twilio Device, run by the leading tab. */
    protected readonly runner: TwilioDeviceRunner;
    /** Runs in the leading tab while it is registered; `null` without WebSockets. */
    protected readonly realtime: RealtimeChannel | null;
    /** Until when a realtime connection that went down still keeps the device live (its grace). */
    private socketGraceUntilMs;
    constructor(options: SoftphonePresenceOptions);
    /** The leading tab subscribes its open realtime connection to a team a tab asked for. */
    protected subscribeTeam(team: string): void;
    /** The last register-device response of this run (token, assigned phones, device, presence). */
    get registration(): RegisterResponse | null;
    /** Begin a run of the request loop: `starting`, and a register at once. */
    protected beginRun(releaseLock: () => void): void;
    /** The run is over: no timer, no request, no realtime channel, no Device. The caller leaves its state. */
    protected endRun(): void;
    /** Register again for a fresh token (then `device.updateToken(token)`), or to sign in. */
    protected askRegister(): void;
    /** The running state of `run`, or `null` once that run has ended. */
    private current;
    private schedule;
    /** One request: register when needed (or when the TTL has passed), else heartbeat; then the next. */
    private step;
    /** The delay before the next request, or `null` for none (the run ended meanwhile). */
    private register;
    private heartbeat;
    /** What a refused or failed request leads to: the delay before the next, or `null` for none. */
    private failed;
    /** A refusal that no retry mends (401 twice, a 400): stop, and let another tab try. */
    protected abstract stopAfterError(): void;
    private jittered;
    /** Retry-After when the server gave one, else exponential with jitter, inside the TTL. */
    private backoff;
    protected call(path: string, body: object): Promise<Outcome>;
    /** The server's socket presence settings, from the last register of this run. */
    private socketPresence;
    /** The realtime channel is open and keeps the device live: no heartbeats. */
    private socketHolds;
    /** The channel opened (a Twilio state not yet told goes in a ping now) or went down (a heartbeat within the grace if it stays down). */
    private socketChanged;
    /** A Twilio state the server has not been told of, for the next ping. */
    private twilioReport;
    private twilioReported;
    private setTwilio;
}
