import type { PersonPresence } from './people.js';
import type { ChannelConstructor } from './environment.js';
import type { ServerEvent } from './events.js';
import type { PresenceState, TwilioStatus } from './options.js';
import type { RealtimeState } from './realtime.js';
/** What the tabs of one browser profile tell each other. */
export type TabMessage = 
/** A tab started: every other started tab answers `here`, the leader its state and log. */
{
    type: 'hello';
    tab: string;
} | {
    type: 'here';
    tab: string;
}
/** A tab stopped or closed. */
 | {
    type: 'bye';
    tab: string;
}
/**
 * The leader is closing while other tabs stay: it did not unregister, the next leader
 * registers the same device. What the last tab needs to unregister if it closes before that.
 */
 | {
    type: 'handover';
    tab: string;
    registrationId?: string;
    appToken?: string;
} | {
    type: 'state';
    tab: string;
    state: PresenceState;
    twilio: TwilioStatus;
    realtime: RealtimeState;
} | {
    type: 'signIn';
} | {
    type: 'signedOut';
}
/** From the leader: events new to the app, to hand over in every tab. */
 | {
    type: 'events';
    events: ServerEvent[];
}
/** From the leader: everything up to `cursor` was handed over. */
 | {
    type: 'cursor';
    cursor: string;
}
/** From the leader to a tab that said hello: its whole log. */
 | {
    type: 'log';
    cursor: string | null;
    seen: string[];
} | {
    type: 'resync';
}
/** To the leader: subscribe to this team (every tab that watches one says so). */
 | {
    type: 'watch';
    team: string;
}
/** From the leader: a colleague's presence changed (`team.presence`). */
 | {
    type: 'team';
    person: PersonPresence;
};
/** The messages about the lifecycle, for the lifecycle to act on. */
export type LifecycleMessage = Exclude<TabMessage, {
    type: 'hello' | 'here' | 'bye' | 'handover';
}>;
export interface Handover {
    from: string;
    registrationId?: string;
    appToken?: string;
}
export interface TabsHost {
    /** Another tab just started: the leader tells it its state and log. */
    greet(): void;
    message(message: LifecycleMessage): void;
}
export declare class Tabs {
    private readonly Channel;
    private readonly name;
    /** This tab, to the other tabs. */
    readonly tabId: string;
    private readonly host;
    /** The other started tabs of this browser profile (they said hello or here, not yet bye). */
    readonly peers: Set<string>;
    /** The leader closed and left the device registered for the next one: until a new one leads. */
    handover: Handover | null;
    private channel;
    constructor(Channel: ChannelConstructor | null, name: string, 
    /** This tab, to the other tabs. */
    tabId: string, host: TabsHost);
    /** Join the channel and say hello (once; again after `close()`). */
    open(): void;
    post(message: TabMessage): void;
    /** Say bye and leave the channel. */
    close(): void;
    private receive;
}
