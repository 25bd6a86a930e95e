import type { CallEntry } from './calls.js';
import type { Clock } from './environment.js';
import type { PresenceEvents } from './options.js';
import type { CallHistory, DeletedVoicemail, VoicemailFormat } from './call-history.js';
export interface RecentCallsOptions {
    /**
     * The signed-in user's email. An internal call is in both colleagues' histories; only the
     * callee's copy counts as missed for them. Without it, an internal call counts once one of
     * its events (which only the callee gets) has come.
     */
    email?: string;
    /** Calls per page; default 50. */
    pageSize?: number;
}
/** What RecentCalls needs of SoftphonePresence: its history API, its events and its clock. */
export interface CallsSource {
    readonly history: CallHistory;
    /** The presence's environment's timers: the page that settles a disputed voicemail waits on them. */
    readonly clock: Pick<Clock, 'setTimeout'>;
    on<K extends keyof PresenceEvents>(type: K, handler: (payload: PresenceEvents[K]) => void): () => void;
}
export interface RecentCallsView {
    /** Newest first. */
    calls: CallEntry[];
    /** Missed calls and voicemails to the user after their seen mark. */
    unseenMissed: number;
}
/** Longer than a store replica lags behind: a page read this long after a dispute settles it. */
export declare const SETTLE_MS = 2000;
export declare class RecentCalls {
    private readonly source;
    private readonly options;
    private readonly known;
    /** The position of the newest call the user has seen ('' for none). */
    private seenUpTo;
    /** A `calls.seen` for calls not loaded yet: applied when they come. */
    private readonly seenPending;
    private readonly deleted;
    /** `before` of the next older page; `undefined` until the first page, `null` once all are here. */
    private _cursor;
    private queue;
    private readonly changes;
    private readonly detach;
    private readonly pageSize;
    private settling;
    constructor(source: CallsSource, options?: RecentCallsOptions);
    /** `change` fires after anything the list or the count shows changed. */
    on(type: 'change', handler: (view: RecentCallsView) => void): () => void;
    get calls(): CallEntry[];
    get unseenMissed(): number;
    /** Whether older calls are left to load. */
    get hasOlder(): boolean;
    /** The newest calls (again); rejects with a `CallsError`. */
    load(): Promise<void>;
    /** The next older page, if any. */
    loadOlder(): Promise<void>;
    /** Mark every call shown seen (up to the newest); nothing is asked when the newest is seen already. */
    markSeen(): Promise<void>;
    /** A voicemail's recording, to play from a `blob:` URL; one that is gone (404) leaves the list. */
    voicemail(recordingSid: string, options?: {
        format?: VoicemailFormat;
    }): Promise<Blob>;
    /** Delete a voicemail (at Twilio and in the history); it never comes back to this list. */
    deleteVoicemail(recordingSid: string): Promise<DeletedVoicemail>;
    /** Stop following the events; what is shown stays as it is. */
    close(): void;
    private page;
    private applyPage;
    /** What an event said of a call: merged into what is known (only the callee's events come). */
    private learn;
    private settleLater;
    /** Keep `call` as the user's entry (without any voicemail deleted); whether that changed it. */
    private keep;
    /** A 404 about a voicemail: it was deleted on another device (or Twilio no longer has it). */
    private unlessGone;
    /** A voicemail deleted (here or on another device): off every entry, for good. */
    private forget;
    /** The user has seen up to the call `upTo`; a call not loaded yet is looked for in the newest page. */
    private seen;
    private raiseSeen;
    private toMe;
    private sorted;
    private changed;
}
