// The settings page's "Recent calls" section: the user's calls, newest first (missed ones and
// voicemail marked, who took a group's call, how long it lasted), with the count of missed
// calls not yet seen. Opening the list is viewing it: while it is open and the page visible,
// the calls are marked seen (up to the newest, again as new ones come). Voicemail plays in an
// <audio> element from a blob: URL (fetched with the app token in a header, never in a URL)
// and can be deleted. Live from the realtime channel through RecentCalls; nothing polls.

import { RecentCalls, describeRinging } from '../../src/softphone-presence.js';
import type { CallEntry, SoftphonePresence } from '../../src/softphone-presence.js';
import { log } from './activity.js';
import { $, el, keyedRows, seen } from './dom.js';
import type { PhonesSection } from './phones.js';
import { session } from './session.js';

const REASONS: Record<string, string> = {
  nobody_live: 'nobody was online',
  all_busy: 'everyone was on a call',
  no_answer: 'nobody answered',
  busy: 'the line was busy',
  failed: 'the call failed',
  dnd: 'do not disturb',
  closed: 'outside business hours',
};

const OUTCOMES: Record<string, string> = {
  missed: 'Missed',
  voicemail: 'Voicemail',
  answered: 'Answered',
  canceled: 'Caller hung up',
  ringing: 'Ringing',
};

/** 0:42, 12:05. */
function minutes(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

export class CallsSection {
  private recent: RecentCalls | null = null;
  /** Object URLs of the voicemail played, by recordingSid. */
  private readonly audio = new Map<string, string>();
  private marking = false;
  /** A colleague's name by email, when the page knows it. */
  names: (email: string) => string | undefined = () => undefined;

  constructor(
    private readonly presence: SoftphonePresence,
    private readonly phones: PhonesSection,
  ) {
    const details = $<HTMLDetailsElement>('calls-details');
    details.addEventListener('toggle', () => {
      // Opening the list is looking at it: read it fresh (calls answered since), then mark it seen.
      if (details.open) void this.recent?.load().then(() => this.markSeenIfViewed(), (error: Error) => this.showError(error));
    });
    document.addEventListener('visibilitychange', () => this.markSeenIfViewed());
    $('calls-more').addEventListener('click', () => void this.recent?.loadOlder().catch((error: Error) => this.showError(error)));
    $('calls-mark-seen').addEventListener('click', () => void this.markSeen());
  }

  /** The signed-in user's calls from the start. */
  async reload(): Promise<void> {
    const email = session()?.email;
    if (!email) return;
    if (!this.recent) {
      this.recent = new RecentCalls(this.presence, { email });
      this.recent.on('change', () => {
        this.render();
        this.markSeenIfViewed();
      });
    }
    try {
      await this.recent.load();
      $('calls-error').hidden = true;
    } catch (error) {
      this.showError(error as Error);
    }
  }

  /** Signed out of the page: nothing of that user stays. */
  clear(): void {
    this.recent?.close();
    this.recent = null;
    for (const url of this.audio.values()) URL.revokeObjectURL(url);
    this.audio.clear();
    $('call-rows').replaceChildren();
    this.render();
  }

  private viewed(): boolean {
    return $<HTMLDetailsElement>('calls-details').open && document.visibilityState === 'visible' && !$('calls').hidden;
  }

  private markSeenIfViewed(): void {
    if (this.viewed() && (this.recent?.unseenMissed ?? 0) > 0) void this.markSeen();
  }

  private async markSeen(): Promise<void> {
    if (!this.recent || this.marking) return;
    this.marking = true;
    try {
      await this.recent.markSeen();
    } catch (error) {
      log(`Could not mark your calls seen: ${(error as Error).message}`);
    } finally {
      this.marking = false;
    }
  }

  // ── rendering ─────────────────────────────────────────────────────────────

  private render(): void {
    const calls = this.recent?.calls ?? [];
    const unseen = this.recent?.unseenMissed ?? 0;
    const badge = $('calls-unseen');
    badge.textContent = String(unseen);
    badge.hidden = unseen === 0;
    badge.setAttribute('aria-label', `${unseen} missed, not seen yet`);
    $('calls-mark-seen').hidden = unseen === 0;
    const newest = calls[0];
    $('calls-newest').textContent = newest ? `Newest: ${this.headline(newest)} · ${seen(newest.startedAt)}` : '';
    $('calls-empty').hidden = calls.length > 0;
    $('calls-more').hidden = !this.recent?.hasOlder;

    // Rows are kept per call: a voicemail playing and keyboard focus survive an update.
    keyedRows($('call-rows'), 'call-sid', calls, (call) => call.callSid, () => el('li', 'call'), (row, call) => this.fill(row, call));
  }

  /** "Missed call from +14155550100 to Sales", "Call to +14155550199", … */
  private headline(call: CallEntry): string {
    const number = call.phoneId ? this.phones.phone(call.phoneId)?.friendlyName ?? call.phoneNumber : null;
    const me = session()?.email;
    const what = call.outcome === 'missed' ? 'Missed call' : call.outcome === 'voicemail' ? 'Voicemail' : 'Call';
    if (call.direction === 'outbound' || (call.direction === 'internal' && call.from === me)) return `${what} to ${call.to}`;
    return `${what} from ${call.from}${number ? ` to ${number}` : ''}`;
  }

  private fill(row: HTMLLIElement, call: CallEntry): void {
    row.dataset.outcome = call.outcome;
    row.dataset.seen = String(call.seen);
    const details: string[] = [OUTCOMES[call.outcome] ?? call.outcome];
    if (call.reason && call.outcome !== 'answered') details[0] += ` (${REASONS[call.reason] ?? call.reason})`;
    if (call.answeredBy && call.outcome === 'answered') {
      const you = call.answeredBy.identity === this.presence.registration?.identity;
      details[0] = `Answered by ${you ? 'you' : call.answeredBy.name}`;
    }
    if (call.durationSeconds) details.push(minutes(call.durationSeconds));
    const time = el('time', undefined, seen(call.startedAt));
    time.dateTime = new Date(call.startedAt).toISOString();
    const title = el('p', 'call-title', this.headline(call));
    if (!call.seen && (call.outcome === 'missed' || call.outcome === 'voicemail')) title.append(' ', el('span', 'call-new', 'New'));
    const meta = el('p', 'call-meta');
    meta.append(time, ` · ${details.join(' · ')}`);
    const parts: HTMLElement[] = [title, meta];
    // "Rang Alice, then you; you answered after 8 s": who a group's call was offered to.
    const me = session()?.email;
    const you = call.answeredBy !== null && call.answeredBy.identity === this.presence.registration?.identity;
    const ringing = describeRinging(
      call,
      (email) => (email === me ? 'you' : this.names(email) ?? email),
      you ? 'you' : call.answeredBy?.name,
    );
    if (ringing) parts.push(el('p', 'call-ringing muted', ringing));
    const voicemail = call.voicemail;
    const kept = row.querySelector<HTMLElement>('.call-voicemail');
    if (voicemail && kept?.dataset.recordingSid === voicemail.recordingSid) parts.push(kept);
    else if (voicemail) parts.push(this.voicemailControls(call.callSid, voicemail.recordingSid, voicemail.durationSeconds));
    row.replaceChildren(...parts);
  }

  private voicemailControls(callSid: string, recordingSid: string, durationSeconds: number): HTMLElement {
    const holder = el('div', 'call-voicemail');
    holder.dataset.recordingSid = recordingSid;
    const play = el('button', undefined, `Play voicemail (${minutes(durationSeconds)})`);
    play.type = 'button';
    const remove = el('button', undefined, 'Delete voicemail');
    remove.type = 'button';
    const status = el('span', 'muted');
    status.setAttribute('role', 'status');
    play.addEventListener('click', () => void this.play(holder, play, status, recordingSid));
    remove.addEventListener('click', () => void this.remove(remove, status, callSid, recordingSid));
    holder.append(play, remove, status);
    return holder;
  }

  private async play(holder: HTMLElement, button: HTMLButtonElement, status: HTMLElement, recordingSid: string): Promise<void> {
    if (!this.recent) return;
    button.disabled = true;
    status.textContent = 'Loading…';
    try {
      let url = this.audio.get(recordingSid);
      if (!url) {
        url = URL.createObjectURL(await this.recent.voicemail(recordingSid));
        this.audio.set(recordingSid, url);
      }
      const audio = holder.querySelector('audio') ?? el('audio');
      audio.controls = true;
      audio.src = url;
      audio.setAttribute('aria-label', 'Voicemail');
      holder.append(audio);
      status.textContent = '';
      await audio.play().catch(() => undefined); // the controls are there if autoplay is refused
    } catch (error) {
      status.textContent = `Cannot play it: ${(error as Error).message}`;
    } finally {
      button.disabled = false;
    }
  }

  private async remove(button: HTMLButtonElement, status: HTMLElement, callSid: string, recordingSid: string): Promise<void> {
    if (!this.recent) return;
    button.disabled = true;
    try {
      await this.recent.deleteVoicemail(recordingSid);
      const url = this.audio.get(recordingSid);
      if (url) URL.revokeObjectURL(url);
      this.audio.delete(recordingSid);
      log(`Deleted the voicemail of call …${callSid.slice(-6)}.`);
    } catch (error) {
      status.textContent = `Not deleted: ${(error as Error).message}`;
      button.disabled = false;
    }
  }

  private showError(error: Error): void {
    const element = $('calls-error');
    element.textContent = `Cannot load your calls: ${error.message}`;
    element.hidden = false;
  }
}
