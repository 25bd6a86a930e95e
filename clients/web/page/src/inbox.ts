// The settings page's "Texts" section: the user's conversations (number, remote party, last
// message, their own unread count, opted out), the open thread (newest at the bottom, statuses
// of sent texts as they move, MMS media through presence.inbox.media), marked read while it is
// open and the page visible, and a reply box with the segment count. Live from the sms.*
// events of the realtime channel; nothing polls. The data lives in inbox-state.ts.

import { SmsError, segments } from '../../src/softphone-presence.js';
import type { SmsConversation, SmsMessage, SoftphonePresence } from '../../src/softphone-presence.js';
import { log } from './activity.js';
import { $, el, keyedRows, seen } from './dom.js';
import { InboxState, conversationKey } from './inbox-state.js';
import type { Thread } from './inbox-state.js';
import type { PhonesSection } from './phones.js';
import { session } from './session.js';

const CONVERSATIONS_PAGE = 20;
const MESSAGES_PAGE = 50;
const PREVIEW_CHARS = 80;

const STATUS_TEXT: Record<string, string> = {
  queued: 'Queued',
  accepted: 'Queued',
  scheduled: 'Scheduled',
  sending: 'Sending',
  sent: 'Sent',
  delivered: 'Delivered',
  undelivered: 'Not delivered',
  failed: 'Failed',
  canceled: 'Canceled',
  read: 'Read',
};

/** What went wrong with a reply, in plain words. */
function explain(error: SmsError, thread: Thread, number: string): string {
  switch (error.code) {
    case 'recipient_opted_out':
      return `${thread.with} has opted out of texts from ${number} (they replied STOP). They must text START before you can text them again.`;
    case 'destination_not_allowed':
      return error.reason === 'premium'
        ? `${thread.with} is a premium-rate number: your organization does not allow texts to it.`
        : `Texts to ${thread.with} are not allowed from ${number}: ${error.message}`;
    case 'destination_refused':
      return `Twilio cannot text ${thread.with} from ${number}: ${error.message}`;
    case 'rate_limited':
      return error.reason === 'new_recipients_per_day'
        ? 'You have texted as many new people today as your organization allows. Replies to people you already text still go out.'
        : 'You are sending texts faster than your organization allows. Wait a minute, then send again: it never texts twice.';
    case 'phone_not_assigned':
      return `${number} is no longer one of your numbers, so you cannot text from it.`;
    case 'twilio_unavailable':
      return 'Twilio is not answering right now, so the text was not sent. Try again in a minute: sending it again never texts twice.';
    case 'network':
      return 'The service cannot be reached. Try again: sending it again never texts twice.';
    case 'send_in_progress':
      return 'This text is still on its way. Send it again in a moment to learn whether it went: it is never texted twice.';
    case 'invalid_field':
      return `Not sent: ${error.field === 'to' ? `${thread.with} is not a number that can be texted` : `the ${error.field ?? 'text'} is not valid`} (${error.message}).`;
    default:
      return `Not sent: ${error.message} (${error.code}).`;
  }
}

/** May the text have gone out? Then a retry of the same words keeps its clientMessageId. */
function mayHaveSent(error: SmsError): boolean {
  return error.code === 'network' || error.code === 'send_in_progress' || (error.status ?? 0) >= 500;
}

export class InboxSection {
  private readonly state = new InboxState();
  /** Object URLs of the open thread's media, by `messageSid/index`. */
  private readonly mediaUrls = new Map<string, string>();
  /** The read mark on its way, so that one is asked for once. */
  private markingUpTo: string | null = null;
  /** A reply that failed but may have gone out: sending the same words again reuses its id. */
  private pending: { key: string; body: string; clientMessageId: string } | null = null;

  constructor(
    private readonly presence: SoftphonePresence,
    private readonly phones: PhonesSection,
  ) {
    presence.on('sms.received', ({ data }) => this.added(data.conversation, data.message, true));
    presence.on('sms.sent', ({ data }) => this.added(data.conversation, data.message, false));
    presence.on('sms.status', ({ data }) => {
      this.state.applyStatus(data);
      this.render();
    });
    presence.on('sms.read', ({ data }) => {
      this.state.applyRead(data);
      this.renderList();
    });
    presence.on('resync', () => void this.reload());
    document.addEventListener('visibilitychange', () => this.markReadIfSeen());
    $<HTMLFormElement>('reply-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.send();
    });
    const body = $<HTMLTextAreaElement>('reply-body');
    body.addEventListener('input', () => this.renderCount());
    body.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        void this.send();
      }
    });
    $('conversations-more').addEventListener('click', () => void this.loadConversations(false));
    $('thread-more').addEventListener('click', () => void this.loadOlderMessages());
    this.renderCount();
  }

  /** The conversations from the start, and the open thread's newest messages. */
  async reload(): Promise<void> {
    await this.loadConversations(true);
    const thread = this.state.thread;
    if (thread) void this.open(thread.phoneId, thread.with);
  }

  /** Signed out of the page: nothing of that user stays. */
  clear(): void {
    this.state.clear();
    this.revokeMedia();
    this.pending = null;
    $<HTMLTextAreaElement>('reply-body').value = '';
    this.render();
  }

  private added(ref: Parameters<InboxState['addMessage']>[0], message: SmsMessage, received: boolean): void {
    this.state.addMessage(ref, message, received);
    this.render();
    if (received && this.state.thread?.key === conversationKey(ref.phoneId, ref.with)) this.markReadIfSeen();
  }

  private async loadConversations(first: boolean): Promise<void> {
    if (!session()) return;
    try {
      const page = await this.presence.inbox.conversations({ before: first ? null : this.state.cursor, limit: CONVERSATIONS_PAGE });
      this.state.addConversations(page, first);
      $('inbox-error').hidden = true;
    } catch (error) {
      this.showError(`Cannot load your texts: ${(error as Error).message}`);
    }
    this.renderList();
  }

  private async open(phoneId: string, withParty: string): Promise<void> {
    const key = conversationKey(phoneId, withParty);
    if (this.state.thread?.key !== key) {
      this.revokeMedia();
      $('reply-error').hidden = true;
    }
    const thread = this.state.open(phoneId, withParty);
    this.render();
    try {
      this.state.addMessages(thread, await this.presence.inbox.messages(phoneId, withParty, { limit: MESSAGES_PAGE }));
    } catch (error) {
      this.showError(`Cannot load the conversation with ${withParty}: ${(error as Error).message}`);
    }
    if (this.state.thread !== thread) return;
    this.render();
    this.scrollToNewest();
    this.markReadIfSeen();
  }

  private async loadOlderMessages(): Promise<void> {
    const thread = this.state.thread;
    if (!thread?.cursor) return;
    try {
      this.state.addMessages(thread, await this.presence.inbox.messages(thread.phoneId, thread.with, { before: thread.cursor, limit: MESSAGES_PAGE }));
    } catch (error) {
      this.showError(`Cannot load older messages: ${(error as Error).message}`);
    }
    this.render();
  }

  /** The open thread is read up to its newest message while the page is visible. */
  private markReadIfSeen(): void {
    const thread = this.state.thread;
    if (!thread?.loaded || document.visibilityState !== 'visible' || $('thread').hidden) return;
    if ((this.state.conversation(thread.key)?.unread ?? 0) === 0) return;
    const upTo = this.state.threadMessages().at(-1)?.messageSid;
    if (!upTo || upTo === this.markingUpTo) return;
    this.markingUpTo = upTo;
    this.presence.inbox
      .markRead(thread.phoneId, thread.with, upTo)
      .then((mark) => {
        this.state.applyRead(mark);
        this.renderList();
      })
      .catch((error: Error) => log(`Could not mark the conversation with ${thread.with} read: ${error.message}`))
      .finally(() => {
        if (this.markingUpTo === upTo) this.markingUpTo = null;
      });
  }

  private async send(): Promise<void> {
    const thread = this.state.thread;
    const box = $<HTMLTextAreaElement>('reply-body');
    const button = $<HTMLButtonElement>('reply-send');
    const body = box.value;
    if (!thread || button.disabled || !segments(body).sendable) return;
    const conversation = this.state.conversation(thread.key);
    const number = conversation?.phoneNumber ?? thread.phoneId;
    const retry = this.pending?.key === thread.key && this.pending.body === body ? this.pending.clientMessageId : undefined;
    const error = $('reply-error');
    error.hidden = true;
    button.disabled = true;
    try {
      const message = await this.presence.inbox.send(thread.phoneId, thread.with, body, retry ? { clientMessageId: retry } : {});
      this.pending = null;
      if (box.value === body) box.value = '';
      this.state.addMessage({ phoneId: thread.phoneId, phoneNumber: message.from, with: thread.with }, message, false);
      this.render();
      this.scrollToNewest();
    } catch (failure) {
      if (!(failure instanceof SmsError)) throw failure;
      this.pending = failure.clientMessageId && mayHaveSent(failure) ? { key: thread.key, body, clientMessageId: failure.clientMessageId } : null;
      error.textContent = explain(failure, thread, number);
      error.dataset.code = failure.code;
      error.hidden = false;
    } finally {
      button.disabled = false;
      this.renderCount();
    }
  }

  // ── rendering ─────────────────────────────────────────────────────────────

  private render(): void {
    this.renderList();
    this.renderThread();
  }

  private renderList(): void {
    const conversations = this.state.ordered();
    const key = (conversation: SmsConversation) => conversationKey(conversation.phoneId, conversation.with);
    keyedRows($('conversation-list'), 'key', conversations, key, (c) => this.newConversationRow(c), (row, c) =>
      this.fillConversationRow(row, c, key(c) === this.state.thread?.key),
    );
    $('conversations-empty').hidden = conversations.length > 0;
    $('conversations-more').hidden = this.state.cursor === null;
  }

  private newConversationRow(conversation: SmsConversation): HTMLLIElement {
    const row = el('li');
    row.dataset.phoneId = conversation.phoneId;
    row.dataset.with = conversation.with;
    const button = el('button', 'conversation');
    button.type = 'button';
    button.append(
      el('span', 'conversation-with'),
      el('span', 'unread'),
      el('span', 'opted-out', 'Opted out'),
      el('span', 'conversation-number'),
      el('span', 'conversation-preview'),
    );
    button.addEventListener('click', () => void this.open(conversation.phoneId, conversation.with));
    row.append(button);
    return row;
  }

  private fillConversationRow(row: HTMLLIElement, conversation: SmsConversation, open: boolean): void {
    const button = row.querySelector('button')!;
    const part = (name: string) => button.querySelector<HTMLElement>(`.${name}`)!;
    const phone = this.phones.phone(conversation.phoneId);
    part('conversation-with').textContent = conversation.with;
    const unread = part('unread');
    unread.textContent = String(conversation.unread);
    unread.hidden = conversation.unread === 0;
    unread.setAttribute('aria-label', `${conversation.unread} unread`);
    row.dataset.unread = String(conversation.unread);
    part('opted-out').hidden = !conversation.optedOut;
    part('conversation-number').textContent = phone ? `${phone.friendlyName} · ${conversation.phoneNumber}` : conversation.phoneNumber;
    part('conversation-preview').textContent = this.preview(conversation.lastMessage);
    if (open) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
  }

  private preview(message: SmsMessage | null): string {
    if (!message) return '';
    const text = message.body || (message.media.length > 0 ? `${message.media.length} attachment${message.media.length === 1 ? '' : 's'}` : '');
    const short = text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
    if (message.direction === 'inbound') return short;
    return `${message.sentBy === session()?.email ? 'You' : (message.sentBy ?? 'Sent')}: ${short}`;
  }

  private renderThread(): void {
    const thread = this.state.thread;
    $('thread').hidden = thread === null;
    $('thread-none').hidden = thread !== null || this.state.conversations.size === 0;
    if (!thread) return;
    const conversation = this.state.conversation(thread.key);
    const phone = this.phones.phone(thread.phoneId);
    const number = conversation?.phoneNumber ?? '';
    const from = phone ? `${phone.friendlyName} (${number})` : number;
    $('thread-title').textContent = `${thread.with} · ${from}`;
    const optedOut = $('thread-opted-out');
    optedOut.hidden = !conversation?.optedOut;
    optedOut.textContent = `${thread.with} replied STOP: texts to them from ${number} are refused until they text START.`;
    $('reply-label').textContent = `Reply to ${thread.with} from ${from}`;
    $('thread-more').hidden = thread.cursor === null;
    $('thread-loading').hidden = thread.loaded;

    keyedRows($('thread-messages'), 'sid', this.state.threadMessages(), (m) => m.messageSid, (m) => this.newMessageRow(m), (row, m) =>
      this.fillMessageMeta(row, m),
    );
  }

  private newMessageRow(message: SmsMessage): HTMLLIElement {
    const row = el('li', 'message');
    row.dataset.direction = message.direction;
    const body = el('p', 'message-body', message.body);
    body.hidden = message.body === '';
    const media = el('div', 'message-media');
    media.hidden = message.media.length === 0;
    for (const file of message.media) media.append(this.mediaElement(message, file.index, file.contentType));
    row.append(body, media, el('p', 'message-meta'));
    return row;
  }

  private fillMessageMeta(row: HTMLLIElement, message: SmsMessage): void {
    const meta = row.querySelector<HTMLElement>('.message-meta')!;
    const time = el('time', undefined, seen(message.at));
    time.dateTime = new Date(message.at).toISOString();
    const parts: (Node | string)[] = [time];
    if (message.direction === 'outbound') {
      if (message.sentBy) parts.push(` · ${message.sentBy === session()?.email ? 'you' : message.sentBy}`);
      const status = el('span', 'message-status', STATUS_TEXT[message.status] ?? message.status);
      status.dataset.status = message.status;
      if (message.errorCode !== null) status.textContent += ` (error ${message.errorCode})`;
      parts.push(' · ', status);
    }
    if (message.segments > 1) parts.push(` · ${message.segments} segments`);
    meta.replaceChildren(...parts);
    row.dataset.status = message.status;
  }

  /** An image shown, another file linked; fetched with the app token (no media URL is public). */
  private mediaElement(message: SmsMessage, index: number, contentType: string): HTMLElement {
    const holder = el('span', 'media-item', 'Loading attachment…');
    const key = `${message.messageSid}/${index}`;
    const show = (url: string) => {
      if (contentType.startsWith('image/')) {
        const image = el('img');
        image.src = url;
        image.alt = `Picture ${index + 1} from ${message.from}`;
        holder.replaceChildren(image);
      } else {
        const link = el('a', undefined, `Attachment ${index + 1} (${contentType})`);
        link.href = url;
        link.download = `${message.messageSid}-${index}`;
        holder.replaceChildren(link);
      }
    };
    const known = this.mediaUrls.get(key);
    if (known) {
      show(known);
      return holder;
    }
    this.presence.inbox
      .media(message.messageSid, index)
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        this.mediaUrls.set(key, url);
        show(url);
      })
      .catch((error: Error) => {
        holder.textContent = `Attachment ${index + 1} cannot be shown: ${error.message}`;
      });
    return holder;
  }

  private revokeMedia(): void {
    for (const url of this.mediaUrls.values()) URL.revokeObjectURL(url);
    this.mediaUrls.clear();
    $('thread-messages').replaceChildren();
  }

  /** "2 segments, UCS-2 · 95 / 1,600 characters"; past 1,600 the reply cannot be sent. */
  private renderCount(): void {
    const body = $<HTMLTextAreaElement>('reply-body').value;
    const count = segments(body);
    const element = $('reply-count');
    const characters = `${count.characters.toLocaleString('en-US')} / 1,600 characters`;
    element.textContent =
      count.characters > 1600
        ? `Too long: ${characters}. Shorten it to send it.`
        : `${count.segments} segment${count.segments === 1 ? '' : 's'}, ${count.encoding} · ${characters}`;
    element.dataset.tooLong = String(count.characters > 1600);
    $<HTMLButtonElement>('reply-send').disabled = !count.sendable;
  }

  private scrollToNewest(): void {
    const list = $('thread-messages');
    list.scrollTop = list.scrollHeight;
  }

  private showError(text: string): void {
    const element = $('inbox-error');
    element.textContent = text;
    element.hidden = false;
  }
}
