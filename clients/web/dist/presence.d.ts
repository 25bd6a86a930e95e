import { CallHistory } from './call-history.js';
import { SmsInbox } from './inbox.js';
import { PresenceStatus, TeamPresence } from './people.js';
import type { SoftphonePresenceOptions, TwilioDeviceLike } from './options.js';
import { RequestLoop } from './request-loop.js';
export declare class SoftphonePresence extends RequestLoop {
    /** The user's SMS inbox: conversations, messages, read marks, sending, media. Usable in any tab. */
    readonly inbox: SmsInbox;
    /** The user's call history: recent calls, their seen mark, voicemail. Usable in any tab. */
    readonly history: CallHistory;
    /** The user's own status: read it, set it (available, away, do not disturb). Usable in any tab. */
    readonly status: PresenceStatus;
    /** The team's presence: pages, and live views (`watch()`). Usable in any tab. */
    readonly team: TeamPresence;
    constructor(options: SoftphonePresenceOptions);
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
    /** `starting`, following until the lock is this tab's (at once without Web Locks). */
    private requestLead;
    private lead;
    /** The lock's release (called once the caller is done), the request for it withdrawn. */
    private takeLockRelease;
    protected signInNow(): void;
    protected enterSignedOut(): void;
    protected stopAfterError(): void;
    /** Stopped; `suspended` by pagehide (a pageshow from the back/forward cache starts again). */
    private teardown;
    private unregisterBody;
    /**
     * The page goes away. The leading tab hands over when other tabs of this browser stay open:
     * the next one takes the lock and registers the same device id at once, and an unregister
     * racing that register could drop the device from the user's list (calls in that moment
     * would go to voicemail). The last tab unregisters, with `keepalive`.
     */
    private onPageHide;
}
