// RecentCalls: the user's recent calls and their unseen-missed count, kept from the history's
// pages and the `call.missed`, `voicemail.received` and `calls.seen` events (pushed, or
// returned again by catch-up), so that whatever order they come in, and however often, the
// list converges on what the server holds: a repeated or late event changes nothing, a seen
// mark never moves back, a deleted voicemail never comes back.
//
// How a page and an event meet: facts are only ever added to an entry on the server, so every
// copy is merged into what is known (calls.ts, mergeCall): an event that overtook a page's
// answer, or a page read from a replica a moment behind, loses nothing. The one fact that goes
// is a deleted voicemail. It goes when deleted here, at its `voicemail.deleted` event (deleted
// on another device), when a page no longer shows it after an earlier page did (an event
// missed), when playing it answers 404, and when a page and an event disagree about it (an event caught up from before the delete, a
// page read a moment before the recording) and a page read a while later does not show it.
// Pages are asked for one at a time, so a later answer never meets an earlier one.

import { callFromEvent, callPosition, isMissed, mergeCall, withoutVoicemail } from './calls.js';
import type { CallEntry, CallsPage } from './calls.js';
import { Emitter } from './emitter.js';
import type { Clock } from './environment.js';
import type { PresenceEvents } from './options.js';
import { CallsError } from './call-history.js';
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

interface Known {
  call: CallEntry;
  /** A call the user should notice when missed (to them, not placed by them). */
  toMe: boolean;
  /** The voicemail the last page showed on it. */
  paged?: string | null;
  /** A voicemail a page and an event disagree about: the page read after `SETTLE_MS` decides. */
  disputed?: string;
}

const DEFAULT_PAGE_SIZE = 50;
/** Longer than a store replica lags behind: a page read this long after a dispute settles it. */
export const SETTLE_MS = 2_000;

export class RecentCalls {
  private readonly known = new Map<string, Known>();
  /** The position of the newest call the user has seen ('' for none). */
  private seenUpTo = '';
  /** A `calls.seen` for calls not loaded yet: applied when they come. */
  private readonly seenPending = new Set<string>();
  private readonly deleted = new Set<string>();
  /** `before` of the next older page; `undefined` until the first page, `null` once all are here. */
  private _cursor: string | null | undefined = undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly changes = new Emitter<{ change: RecentCallsView }>();
  private readonly detach: (() => void)[];
  private readonly pageSize: number;
  private settling = false;

  constructor(
    private readonly source: CallsSource,
    private readonly options: RecentCallsOptions = {},
  ) {
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.detach = [
      source.on('call.missed', ({ data }) => this.learn(callFromEvent(data, { outcome: 'missed', reason: data.reason }))),
      source.on('voicemail.received', ({ data }) => this.learn(callFromEvent(data, { outcome: 'voicemail', voicemail: data.voicemail }))),
      source.on('calls.seen', ({ data }) => this.seen(data.upTo)),
      source.on('voicemail.deleted', ({ data }) => {
        this.forget(data.recordingSid);
        this.changed();
      }),
      source.on('resync', () => void this.load().catch(() => undefined)),
    ];
  }

  /** `change` fires after anything the list or the count shows changed. */
  on(type: 'change', handler: (view: RecentCallsView) => void): () => void {
    return this.changes.on(type, handler);
  }

  get calls(): CallEntry[] {
    return this.sorted().map(([position, { call }]) => (call.seen || position > this.seenUpTo ? call : { ...call, seen: true }));
  }

  get unseenMissed(): number {
    let count = 0;
    for (const [position, { call, toMe }] of this.sorted()) if (toMe && isMissed(call) && position > this.seenUpTo) count += 1;
    return count;
  }

  /** Whether older calls are left to load. */
  get hasOlder(): boolean {
    return typeof this._cursor === 'string';
  }

  /** The newest calls (again); rejects with a `CallsError`. */
  load(): Promise<void> {
    return this.page(true);
  }

  /** The next older page, if any. */
  loadOlder(): Promise<void> {
    return this.page(false);
  }

  /** Mark every call shown seen (up to the newest); nothing is asked when the newest is seen already. */
  async markSeen(): Promise<void> {
    const [newest] = this.sorted();
    if (!newest || newest[0] <= this.seenUpTo) return;
    const { upTo } = await this.source.history.markCallsSeen(newest[1].call.callSid);
    this.seen(upTo);
  }

  /** A voicemail's recording, to play from a `blob:` URL; one that is gone (404) leaves the list. */
  voicemail(recordingSid: string, options: { format?: VoicemailFormat } = {}): Promise<Blob> {
    return this.unlessGone(recordingSid, this.source.history.voicemail(recordingSid, options));
  }

  /** Delete a voicemail (at Twilio and in the history); it never comes back to this list. */
  async deleteVoicemail(recordingSid: string): Promise<DeletedVoicemail> {
    const answer = await this.unlessGone(recordingSid, this.source.history.deleteVoicemail(recordingSid));
    this.forget(recordingSid);
    this.changed();
    return answer;
  }

  /** Stop following the events; what is shown stays as it is. */
  close(): void {
    for (const off of this.detach) off();
  }

  private page(first: boolean, settles = false): Promise<void> {
    const run = this.queue.then(async () => {
      if (!first && !this.hasOlder) return;
      const page = await this.source.history.calls({ before: first ? null : this._cursor, limit: this.pageSize });
      this.applyPage(page, first, settles);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private applyPage(page: CallsPage, first: boolean, settles: boolean): void {
    for (const call of page.calls) {
      const known = this.known.get(call.callSid);
      const shown = known?.call.voicemail?.recordingSid;
      let disputed: string | undefined;
      if (shown && call.voicemail?.recordingSid !== shown) {
        if (known.paged === shown || (settles && known.disputed === shown)) this.forget(shown);
        else disputed = shown;
      }
      this.keep(mergeCall(known?.call, call), known?.toMe || this.toMe(call));
      Object.assign(this.known.get(call.callSid)!, { paged: call.voicemail?.recordingSid ?? null, disputed });
      if (disputed) this.settleLater();
      if (call.seen) this.raiseSeen(callPosition(call));
    }
    if (!first || this._cursor === undefined) this._cursor = page.cursor;
    this.changed();
  }

  /** What an event said of a call: merged into what is known (only the callee's events come). */
  private learn(call: CallEntry): void {
    const known = this.known.get(call.callSid);
    const changed = this.keep(mergeCall(known?.call, call), true);
    const recordingSid = call.voicemail?.recordingSid;
    // A page showed the call without it: deleted since (an event caught up late), or the page was early.
    if (recordingSid && known?.paged === null && !this.deleted.has(recordingSid)) {
      this.known.get(call.callSid)!.disputed = recordingSid;
      this.settleLater();
    }
    if (changed) this.changed();
  }

  private settleLater(): void {
    if (this.settling) return;
    this.settling = true;
    this.source.clock.setTimeout(() => {
      this.settling = false;
      void this.page(true, true).catch(() => undefined);
    }, SETTLE_MS);
  }

  /** Keep `call` as the user's entry (without any voicemail deleted); whether that changed it. */
  private keep(call: CallEntry, toMe: boolean): boolean {
    let shown = call;
    for (const recordingSid of this.deleted) shown = withoutVoicemail(shown, recordingSid);
    const known = this.known.get(call.callSid);
    const same = known !== undefined && known.toMe === toMe && JSON.stringify(known.call) === JSON.stringify(shown);
    if (!same) this.known.set(call.callSid, { ...known, call: shown, toMe });
    const seen = this.seenPending.delete(call.callSid) && this.raiseSeen(callPosition(shown));
    return !same || seen;
  }

  /** A 404 about a voicemail: it was deleted on another device (or Twilio no longer has it). */
  private async unlessGone<T>(recordingSid: string, request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      if (error instanceof CallsError && error.code === 'not_found') {
        this.forget(recordingSid);
        this.changed();
      }
      throw error;
    }
  }

  /** A voicemail deleted (here or on another device): off every entry, for good. */
  private forget(recordingSid: string): void {
    this.deleted.add(recordingSid);
    for (const known of this.known.values()) known.call = withoutVoicemail(known.call, recordingSid);
  }

  /** The user has seen up to the call `upTo`; a call not loaded yet is looked for in the newest page. */
  private seen(upTo: string): void {
    const known = this.known.get(upTo);
    if (known) {
      if (this.raiseSeen(callPosition(known.call))) this.changed();
      return;
    }
    this.seenPending.add(upTo);
    void this.load().catch(() => undefined);
  }

  private raiseSeen(position: string): boolean {
    if (position <= this.seenUpTo) return false;
    this.seenUpTo = position;
    return true;
  }

  private toMe(call: CallEntry): boolean {
    if (call.direction === 'inbound') return true;
    return call.direction === 'internal' && this.options.email !== undefined && call.to === this.options.email;
  }

  private sorted(): [string, Known][] {
    return [...this.known.values()].map((known): [string, Known] => [callPosition(known.call), known]).sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0));
  }

  private changed(): void {
    this.changes.emit('change', { calls: this.calls, unseenMissed: this.unseenMissed });
  }
}
