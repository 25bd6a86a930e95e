import type { Capability, RegisterResponse, TwilioState } from './api.js';
import type { Environment } from './environment.js';
import type { ServerEvent, ServerEventsByType } from './events.js';
import type { PresenceError } from './outcome.js';
import type { PersonPresence } from './people.js';
import type { RealtimeState } from './realtime.js';
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
    /** A colleague's presence changed, in a team watched (`presence.team.watch()`): state, not a log event. */
    teamPresence: PersonPresence;
}
