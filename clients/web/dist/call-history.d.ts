import type { CallsPage } from './calls.js';
import type { ApiClient } from './http.js';
import { ServiceError } from './requests.js';
import type { PageOptions } from './requests.js';
/** A request of the call history that failed: see `ServiceError` for its codes (and `not_found`). */
export declare class CallsError extends ServiceError {
    readonly name = "CallsError";
}
/** `markCallsSeen`'s answer. */
export interface SeenMark {
    upTo: string;
}
/** `deleteVoicemail`'s answer. */
export interface DeletedVoicemail {
    recordingSid: string;
    deleted: true;
}
export type VoicemailFormat = 'mp3' | 'wav';
export declare class CallHistory {
    private readonly requests;
    constructor(api: ApiClient);
    /** The user's calls, newest first, with `unseenMissed` (missed calls and voicemails to them after their seen mark, in this page). */
    calls(options?: PageOptions): Promise<CallsPage>;
    /** Move this user's seen mark up to the call `upTo` (a callSid; never back). Their devices hear `calls.seen`. */
    markCallsSeen(upTo: string): Promise<SeenMark>;
    /**
     * A voicemail's recording (`audio/mpeg`, or `audio/wav` with `{ format: 'wav' }`), fetched
     * with the app token in a header: play it from `URL.createObjectURL(blob)`. Rejects with
     * `not_found` when it is not on one of the user's calls, or is gone at Twilio.
     */
    voicemail(recordingSid: string, options?: {
        format?: VoicemailFormat;
    }): Promise<Blob>;
    /** Delete a voicemail at Twilio and from every entry that shows it (for a group's number, any member may). */
    deleteVoicemail(recordingSid: string): Promise<DeletedVoicemail>;
}
