import { Emitter } from './emitter.js';
import type { Clock, Environment } from './environment.js';
import { EventLog } from './events.js';
import type { ServerEvent } from './events.js';
import { ApiClient } from './http.js';
import type { Following, Lifecycle } from './lifecycle.js';
import type { PresenceEvents, PresenceState, SoftphonePresenceOptions, TwilioStatus } from './options.js';
import type { RealtimeState } from './realtime.js';
import { Tabs } from './tabs.js';
import type { TabMessage } from './tabs.js';
export declare abstract class TabPresence {
    /** `web_` + a UUID, created once per browser profile and kept in localStorage. */
    readonly deviceId: string;
    protected readonly env: Environment;
    /** The clock and timers of its environment (the browser's, or `options.environment`'s): what RecentCalls waits with. */
    readonly clock: Clock;
    protected readonly options: SoftphonePresenceOptions;
    protected readonly events: Emitter<PresenceEvents>;
    protected readonly api: ApiClient;
    /** The other tabs of this browser profile. */
    protected readonly tabs: Tabs;
    /** The state, whether this tab leads, and what that state holds. Changed only by `enter`. */
    protected lifecycle: Lifecycle;
    protected twilio: TwilioStatus;
    protected _realtimeState: RealtimeState;
    /** Which events the app has seen, and where the next catch-up starts (kept in every tab). */
    protected readonly log: EventLog;
    /** The teams watched (`"org"`, group ids): this tab's, and in the leader every tab's. */
    protected readonly teams: Set<string>;
    constructor(options: SoftphonePresenceOptions);
    get state(): PresenceState;
    /** Whether this tab runs the Twilio Device and the heartbeats for the browser. */
    get isLeader(): boolean;
    get twilioStatus(): TwilioStatus;
    /** The realtime channel's state; in a tab that does not lead, the leader's. */
    get realtimeState(): RealtimeState;
    on<K extends keyof PresenceEvents>(type: K, handler: (payload: PresenceEvents[K]) => void): () => void;
    off<K extends keyof PresenceEvents>(type: K, handler: (payload: PresenceEvents[K]) => void): void;
    /** In the leading tab: sign in (register with `signIn: true`); elsewhere, ask the leader to. */
    protected abstract signInNow(): void;
    /** In the leading tab: subscribe the realtime connection to `team` now. */
    protected abstract subscribeTeam(team: string): void;
    /**
     * Watch a team's presence (`"org"` or a group id): `teamPresence` then comes in every tab.
     * The leading tab subscribes its realtime connection (again on every connection); another tab
     * asks it to.
     */
    watchTeam(team: string): void;
    /** A `team.presence` from the realtime channel (leader) or relayed by the leader. */
    protected deliverTeamPresence(data: unknown): void;
    /** In the leading tab: stop everything, the device was signed out. */
    protected abstract enterSignedOut(): void;
    /**
     * Move to `next` and tell the app what changed (`leader`, then `state`) and the other tabs. A
     * leader that stays one follows TRANSITIONS; a follower mirrors, a new leader starts over.
     */
    protected enter(next: Lifecycle, reason?: string): void;
    protected post(message: TabMessage): void;
    protected broadcastState(): void;
    private onTabMessage;
    /** A tab that follows shows the leading tab's state. */
    protected mirror(state: Following['state']): void;
    /**
     * Events from the realtime channel (leader) or relayed by the leader (the other tabs): each
     * one the app has not had goes to it, in every tab. This device signed out from another one
     * signs out here, as a 410 `device_signed_out` would.
     */
    protected deliverEvents(events: ServerEvent[]): void;
    /** Signed out after its latest register: an older sign-out was lifted by a sign-in since. */
    private signsThisDeviceOut;
    protected setRealtimeState(state: RealtimeState, broadcast?: boolean): void;
    protected rememberSignedOut(): void;
}
