/** `inbound` to one of the user's numbers, `outbound` placed by the user, `internal` between colleagues. */
export type CallDirection = 'inbound' | 'outbound' | 'internal';
/** What became of the call; `ringing` until a callback decides. */
export type CallOutcome = 'ringing' | 'missed' | 'canceled' | 'answered' | 'voicemail';
/** Why a call was missed. */
export type MissedReason = 'nobody_live' | 'all_busy' | 'no_answer' | 'busy' | 'failed' | 'dnd' | 'closed';
/** Who took the call: a user of the number (their identity and name), or the number called. */
export interface AnsweredBy {
    identity: string;
    name: string;
}
/** A voicemail left on the call; `voicemail(recordingSid)` fetches it. */
export interface CallVoicemail {
    recordingSid: string;
    durationSeconds: number;
}
/** One step of ringing: who was offered the call together (emails), from when (epoch ms). */
export interface CallOffer {
    /** 1 for the call's first dial. */
    step: number;
    at: number;
    to: string[];
}
/** The call an entry or an event is about. */
export interface CallRef {
    callSid: string;
    direction: CallDirection;
    /** The caller: an E.164 number, or a colleague's email for an internal call. */
    from: string;
    /** The number called, or the colleague's email. */
    to: string;
    /** The user's number it came in on (inbound), else `null`. */
    phoneId: string | null;
    phoneNumber: string | null;
    /** Epoch milliseconds. */
    startedAt: number;
}
/** One call in the user's history, as `GET /phone/calls` shows it. */
export interface CallEntry extends CallRef {
    outcome: CallOutcome;
    reason: MissedReason | null;
    answeredBy: AnsweredBy | null;
    /** Epoch milliseconds. */
    answeredAt: number | null;
    endedAt: number | null;
    durationSeconds: number | null;
    voicemail: CallVoicemail | null;
    /** Who was offered the call, step by step (a group that rings in turn has several). */
    offeredTo: CallOffer[];
    /** At or before the user's seen mark. */
    seen: boolean;
}
/** A page, newest first; `cursor` is `before` for the next (older) page, `null` on the last. */
export interface CallsPage {
    calls: CallEntry[];
    cursor: string | null;
    /** Missed calls and voicemails to the user in this page after their seen mark. */
    unseenMissed: number;
}
/** The `data` of the call history's events. */
export interface CallEventData {
    /** A call to the user was missed (nobody could be rung, or nobody answered), before any voicemail. */
    'call.missed': CallRef & {
        reason: MissedReason;
    };
    /** A caller left a voicemail on a call to the user. */
    'voicemail.received': CallRef & {
        voicemail: CallVoicemail;
    };
    /** The user marked their history seen up to the call `upTo` (on any of their devices). */
    'calls.seen': {
        upTo: string;
    };
    /** A voicemail on a call to the user was deleted (by any user of the number, on any device). */
    'voicemail.deleted': {
        callSid: string;
        recordingSid: string;
    };
}
/**
 * An entry's place in the history, as the server orders it (and as its `cursor` spells it):
 * the start in 16 hex digits of epoch ms, `:`, the CallSid. Their string order is the time order.
 */
export declare function callPosition(call: Pick<CallEntry, 'startedAt' | 'callSid'>): string;
export declare function outcomeRank(outcome: string): number;
/** Whether the entry is a call the user did not take: missed, or left as voicemail. */
export declare function isMissed(call: Pick<CallEntry, 'outcome'>): boolean;
/**
 * Two copies of one entry (a page, an event): every fact either knows. Facts are only ever
 * added, so the outcome is the stronger of the two, and a known time, answer or voicemail is
 * never lost to a copy that had not learnt it yet. `seen` is either's (it never moves back).
 */
export declare function mergeCall(known: CallEntry | undefined, incoming: CallEntry): CallEntry;
/**
 * How the call rang, in words: "Rang Alice, then Bob and Carol; Carol Chen answered after 8 s".
 * `name` turns an offered person's email into what to show (a colleague's name, "you");
 * `answerer` is how to call whoever answered (their name in the directory by default). `null`
 * for a call with no recorded ringing (placed by the user, or before its first step ended).
 */
export declare function describeRinging(call: CallEntry, name?: (email: string) => string, answerer?: string | undefined): string | null;
/** The entry an event describes, knowing only what the event says. */
export declare function callFromEvent(ref: CallRef, facts: Partial<Pick<CallEntry, 'outcome' | 'reason' | 'voicemail'>>): CallEntry;
/** The entry once its voicemail `recordingSid` is deleted: what the server then says of it. */
export declare function withoutVoicemail(call: CallEntry, recordingSid: string): CallEntry;
