import type { ApiClient } from './http.js';
import type { PresenceEvents } from './options.js';
import { ServiceError } from './requests.js';
export type Availability = 'available' | 'away' | 'dnd';
export type Effective = 'offline' | 'onCall' | 'dnd' | 'away' | 'available';
/** A person as their colleagues see them: one shape for the user's own status and the team. */
export interface PersonPresence {
    email: string;
    name: string | null;
    identity: string;
    /** What they set, as it stands now (`available` once `until` has passed). */
    status: Availability;
    /** Epoch seconds. */
    until: number | null;
    note: string | null;
    /** Derived by the server: offline (no live voice device), on a call, else their status. */
    effective: Effective;
    onCall: boolean;
    onCallSince: number | null;
    lastSeen: number | null;
    devices: {
        online: number;
        push: number;
    };
}
export interface StatusUpdate {
    status: Availability;
    /** Epoch seconds, in the future and at most 30 days ahead (`away` and `dnd` only); `null`: until changed. */
    until?: number | null;
    /** At most 100 characters. */
    note?: string | null;
}
export interface TeamPage {
    people: PersonPresence[];
    /** The `after` of the next page; `null` on the last. */
    next: string | null;
}
/** A request of people presence that failed: see `ServiceError` (`invalid_field` names the field). */
export declare class PeopleError extends ServiceError {
    readonly name = "PeopleError";
}
/** `presence.status`: the signed-in user's own status. */
export declare class PresenceStatus {
    private readonly requests;
    constructor(api: ApiClient);
    /** The user's presence, as their colleagues see it. */
    get(): Promise<PersonPresence>;
    /** Replace the user's status; their other devices hear `presence.status`, their colleagues `team.presence`. */
    set(update: StatusUpdate): Promise<PersonPresence>;
}
/** What a TeamView needs of SoftphonePresence: its API, its events, and the subscription of its leading tab. */
export interface TeamSource {
    on<K extends keyof PresenceEvents>(type: K, handler: (payload: PresenceEvents[K]) => void): () => void;
    watchTeam(team: string): void;
}
/** `presence.team`: pages of the team, and live views. */
export declare class TeamPresence {
    private readonly source;
    private readonly requests;
    constructor(api: ApiClient, source: TeamSource);
    /** One page of the org (or of `group`), sorted by name then email. */
    page(options?: {
        group?: string;
        after?: string;
        limit?: number;
    }): Promise<TeamPage>;
    /** A live view of the org (or of `group`): every page, then each change as it comes. */
    watch(options?: {
        group?: string;
    }): TeamView;
}
/** The team's people, kept current: `people` sorted as the server sorts them, `change` on every update. */
export declare class TeamView {
    private readonly team;
    private readonly group?;
    private readonly byEmail;
    private readonly changes;
    private readonly detach;
    /** Changes that came while the pages loaded: applied after them, in order. */
    private pending;
    /** Read once: a new realtime connection reads the pages again (changes while it was down are not sent again). */
    private loaded;
    constructor(team: TeamPresence, source: TeamSource, group?: string | undefined);
    /** Read every page (again): call once to start, and after a `resync`. */
    load(): Promise<PersonPresence[]>;
    get people(): PersonPresence[];
    on(type: 'change', handler: (people: PersonPresence[]) => void): () => void;
    close(): void;
    private apply;
    private emit;
}
/** A `team.presence` frame's data that has the shape of a presence. */
export declare function isPersonPresence(data: unknown): data is PersonPresence;
