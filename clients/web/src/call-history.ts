// The call history of the signed-in user (`presence.history`): their recent calls (missed ones,
// who answered a group's call, durations), their seen mark, and the voicemail left on their
// calls, played and deleted through the service with the app token (never a URL that carries
// it). Any tab may call it. The live side is the `call.missed`, `voicemail.received` and
// `calls.seen` events (events.ts, calls.ts); recent-calls.ts keeps a list from both.

import { PATHS } from './api.js';
import type { CallsPage } from './calls.js';
import type { ApiClient } from './http.js';
import { DataRequests, ServiceError, pageQuery, withQuery } from './requests.js';
import type { PageOptions } from './requests.js';

/** A request of the call history that failed: see `ServiceError` for its codes (and `not_found`). */
export class CallsError extends ServiceError {
  override readonly name = 'CallsError';
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

export class CallHistory {
  private readonly requests: DataRequests<CallsError>;

  constructor(api: ApiClient) {
    this.requests = new DataRequests(api, (code, message, details) => new CallsError(code, message, details));
  }

  /** The user's calls, newest first, with `unseenMissed` (missed calls and voicemails to them after their seen mark, in this page). */
  async calls(options: PageOptions = {}): Promise<CallsPage> {
    return (await this.requests.json('GET', withQuery(PATHS.calls, pageQuery(options)))) as CallsPage;
  }

  /** Move this user's seen mark up to the call `upTo` (a callSid; never back). Their devices hear `calls.seen`. */
  async markCallsSeen(upTo: string): Promise<SeenMark> {
    return (await this.requests.json('POST', PATHS.callsSeen, { upTo })) as SeenMark;
  }

  /**
   * A voicemail's recording (`audio/mpeg`, or `audio/wav` with `{ format: 'wav' }`), fetched
   * with the app token in a header: play it from `URL.createObjectURL(blob)`. Rejects with
   * `not_found` when it is not on one of the user's calls, or is gone at Twilio.
   */
  voicemail(recordingSid: string, options: { format?: VoicemailFormat } = {}): Promise<Blob> {
    const path = `${PATHS.voicemail}/${encodeURIComponent(recordingSid)}`;
    return this.requests.blob(withQuery(path, options.format === 'wav' ? { format: 'wav' } : {}));
  }

  /** Delete a voicemail at Twilio and from every entry that shows it (for a group's number, any member may). */
  async deleteVoicemail(recordingSid: string): Promise<DeletedVoicemail> {
    return (await this.requests.json('DELETE', `${PATHS.voicemail}/${encodeURIComponent(recordingSid)}`)) as DeletedVoicemail;
  }
}
