import type { RegisterResponse } from './api.js';
import type { SoftphonePresenceOptions, TwilioDeviceLike } from './options.js';
import { SmsInbox } from './inbox.js';
import { CallHistory } from './call-history.js';
import { TabPresence } from './tab-presence.js';
export declare class SoftphonePresence extends TabPresence {
    /** The user's SMS inbox: conversations, messages, read marks, sending, media. Usable in any tab. */
    readonly inbox: SmsInbox;
    /** The user's call history: recent calls, their seen mark, voicemail. Usable in any tab. */
    readonly history: CallHistory;
    private readonly label;
    private _registration;
    /** Bumped whenever the lifecycle is torn down: late answers of an older run are dropped. */
    private run;
    private busy;
    private timer;
    private timerDue;
    private needsRegister;
    /** A register was asked for while a request was in flight: run it right after, if live. */
    private registerAfterStep;
    private signInPending;
    private failures;
    private expiresAtMs;
    private intervalSeconds;
    private reportedTwilioState;
    private releaseLock;
    private lockRequest;
    /** Torn down by `pagehide`: a `pageshow` from the back/forward cache starts again. */
    private suspended;
    /** The Twilio Device, run by the leading tab. */
    private readonly runner;
    /** Runs in the leading tab while it is registered; `null` without WebSockets. */
    private readonly realtime;
    constructor(options: SoftphonePresenceOptions);
    /** The last register-device response of this tab (token, assigned phones, device, presence). */
    get registration(): RegisterResponse | null;
    /** The Twilio Device this tab runs, if it leads. */
    get device(): TwilioDeviceLike | null;
    /**
     * Start presence for this browser. Without `signIn` (a page load, a restored tab) a device that
     * was signed out stays signed out; `signIn: true` means the user just signed in and brings it
     * back. Calling it again while running only forwards a sign-in to the tab that leads.
     */
    start(options?: {
        signIn?: boolean;
    }): void;
    /**
     * Stop presence in this tab: unregister the device (a normal request) and destroy the Twilio
     * Device. Another open tab of this browser then takes over.
     */
    stop(): Promise<void>;
    /**
     * Sign this browser out: the server removes the device and refuses its automatic registers
     * (other tabs, reloads) until the user signs in again with `start({ signIn: true })`.
     */
    signOut(): Promise<void>;
    private requestLead;
    private lead;
    private takeLockRelease;
    protected signInNow(): void;
    private askRegister;
    private setTimer;
    private clearTimer;
    /** One request: register when needed (or when the TTL has passed), else heartbeat. */
    private step;
    private register;
    private heartbeat;
    private noteDevice;
    private failed;
    private jittered;
    /** Retry-After when the server gave one, else exponential with jitter, inside the TTL. */
    private backoff;
    private call;
    private unregisterBody;
    /** Register again for a fresh token, then `device.updateToken(token)`. */
    private renew;
    private setTwilio;
    protected enterSignedOut(): void;
    private teardown;
    /**
     * The page goes away. The leading tab hands over when other tabs of this browser stay open:
     * the next one takes the lock and registers the same device id at once, and an unregister
     * racing that register could drop the device from the user's list (calls in that moment
     * would go to voicemail). The last tab unregisters, with `keepalive`.
     */
    private onPageHide;
}
