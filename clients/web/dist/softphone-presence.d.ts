import type { Environment } from './environment.js';
import type { Capability, RegisterResponse, TwilioState } from './api.js';
import type { ServerEvent, ServerEventsByType } from './events.js';
import type { PresenceError } from './outcome.js';
import type { RealtimeState } from './realtime.js';
export type * from './api.js';
export type * from './environment.js';
export type { CallStateEvent, DeviceChange, DeviceSignedOutEvent, DevicesChangedEvent, EventDataByType, KnownEventType, KnownServerEvent, ServerEvent, ServerEventOf, ServerEventsByType, UnknownServerEvent, } from './events.js';
export type { PresenceError } from './outcome.js';
export type { RealtimeState } from './realtime.js';
export { EVENT_TYPES, isEventOf } from './events.js';
export { labelFromUserAgent } from './environment.js';
export { Emitter } from './emitter.js';
export type PresenceState = 'starting' | 'live' | 'reconnecting' | 'signedOut' | 'stopped';
/** Which state may follow which, in the tab that leads. */
export declare const TRANSITIONS: Readonly<Record<PresenceState, readonly PresenceState[]>>;
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
    getAppToken: (context: {
        refresh: boolean;
    }) => Promise<string>;
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
    error?: {
        code?: number;
        message: string;
    };
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
    evicted: {
        deviceIds: string[];
    };
    /** Presence stopped because of it (401 twice, a 400), or the Twilio SDK could not be loaded. */
    error: PresenceError;
    /** The Twilio Device's registration with Twilio changed, or it reported an error. */
    twilio: TwilioStatus;
    /** A new Twilio Device: attach `incoming` listeners here. */
    device: TwilioDeviceLike;
    /** This tab started or stopped leading (running the Device and the heartbeats). */
    leader: {
        leader: boolean;
    };
    /** Every event of the user's log, once, in every tab: known types typed, others as they came. */
    event: ServerEvent;
    /** The log no longer reaches back to where this browser left off: reload what you show from the API. */
    resync: {
        reason: 'cursor_expired';
    };
    /** The realtime channel (run by the leading tab) is connecting, connected or closed. */
    realtime: {
        state: RealtimeState;
    };
}
export declare const STORAGE_KEYS: {
    readonly deviceId: 'softphone.deviceId';
    /** Set when this device was signed out (remotely or by `signOut()`): no automatic start. */
    readonly signedOut: 'softphone.signedOut';
};
export declare class SoftphonePresence {
    /** `web_` + a UUID, created once per browser profile and kept in localStorage. */
    readonly deviceId: string;
    private readonly env;
    private readonly options;
    private readonly events;
    private readonly label;
    private _state;
    private _leader;
    /** The `leader` flag last announced with a `leader` event. */
    private announcedLeader;
    private _registration;
    private _device;
    private twilio;
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
    /** Kept for `pagehide`, where nothing can be awaited. */
    private appToken;
    private releaseLock;
    private lockRequest;
    private channel;
    /** Torn down by `pagehide`: a `pageshow` from the back/forward cache starts again. */
    private suspended;
    /** This tab, to the other tabs. */
    private readonly tabId;
    /** The other started tabs of this browser profile (they said hello or here, not yet bye). */
    private readonly peers;
    /** The leader closed and left the device registered for the next one: until a new one leads. */
    private handover;
    /** When the device last registered, by the server's clock (`device.lastSeen` of the response). */
    private registeredAt;
    /** Which events the app has seen, and where the next catch-up starts (kept in every tab). */
    private readonly log;
    /** Runs in the leading tab while it is registered; `null` without WebSockets. */
    private readonly realtime;
    private _realtimeState;
    constructor(options: SoftphonePresenceOptions);
    get state(): PresenceState;
    /** Whether this tab runs the Twilio Device and the heartbeats for the browser. */
    get isLeader(): boolean;
    /** The last register-device response of this tab (token, assigned phones, device, presence). */
    get registration(): RegisterResponse | null;
    /** The Twilio Device this tab runs, if it leads. */
    get device(): TwilioDeviceLike | null;
    get twilioStatus(): TwilioStatus;
    /** The realtime channel's state; in a tab that does not lead, the leader's. */
    get realtimeState(): RealtimeState;
    on<K extends keyof PresenceEvents>(type: K, handler: (payload: PresenceEvents[K]) => void): () => void;
    off<K extends keyof PresenceEvents>(type: K, handler: (payload: PresenceEvents[K]) => void): void;
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
    private signInNow;
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
    /** A request with the app token; a 401 is retried once with a token asked for again. */
    private request;
    private classify;
    private retryAfterMs;
    private url;
    private unregisterBody;
    private useToken;
    /** Register again for a fresh token, then `device.updateToken(token)`. */
    private renew;
    private setTwilio;
    private destroyDevice;
    private enterSignedOut;
    private teardown;
    /**
     * The page goes away. The leading tab hands over when other tabs of this browser stay open:
     * the next one takes the lock and registers the same device id at once, and an unregister
     * racing that register could drop the device from the user's list (calls in that moment
     * would go to voicemail). The last tab unregisters, with `keepalive`.
     */
    private onPageHide;
    private setState;
    /** Change state without the leader's rules: a follower mirrors, a new leader starts over. */
    private forceState;
    private openChannel;
    private post;
    private broadcastState;
    private onTabMessage;
    /**
     * Events from the realtime channel (leader) or relayed by the leader (the other tabs): each
     * one the app has not had goes to it, in every tab. This device signed out from another one
     * signs out here, as a 410 `device_signed_out` would.
     */
    private deliverEvents;
    /** Signed out after its latest register: an older sign-out was lifted by a sign-in since. */
    private signsThisDeviceOut;
    private setRealtimeState;
    private loadDeviceId;
    private isSignedOutStored;
    private rememberSignedOut;
}
