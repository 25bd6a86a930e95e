// The settings page's inbox as data, without the DOM: the user's conversations with their own
// unread counts, and the open thread's messages. The sms.* events keep it up to date: every
// message once (by messageSid), statuses only forward, the unread count this user's own.

import { mergeMessage, withStatus } from '../../src/softphone-presence.js';
import type {
  ConversationsPage,
  MessagesPage,
  ReadMark,
  SmsConversation,
  SmsConversationRef,
  SmsEventData,
  SmsMessage,
} from '../../src/softphone-presence.js';

export function conversationKey(phoneId: string, withParty: string): string {
  return `${phoneId}\n${withParty}`;
}

export interface Thread {
  key: string;
  phoneId: string;
  with: string;
  messages: Map<string, SmsMessage>;
  /** `before` for older messages; `null` once the first message is here. */
  cursor: string | null;
  loaded: boolean;
}

const byTime = (a: SmsMessage, b: SmsMessage) => a.at - b.at || (a.messageSid < b.messageSid ? -1 : 1);

export class InboxState {
  readonly conversations = new Map<string, SmsConversation>();
  /** `before` for older conversations; `null` once all are here. */
  cursor: string | null = null;
  thread: Thread | null = null;

  /** A page of the list: the first replaces what was there, a later one adds older ones. */
  addConversations(page: ConversationsPage, first: boolean): void {
    if (first) this.conversations.clear();
    for (const conversation of page.conversations) {
      this.conversations.set(conversationKey(conversation.phoneId, conversation.with), conversation);
    }
    this.cursor = page.cursor;
  }

  /** Newest activity first. */
  ordered(): SmsConversation[] {
    return [...this.conversations.values()].sort((a, b) => (b.lastMessage?.at ?? 0) - (a.lastMessage?.at ?? 0));
  }

  conversation(key: string): SmsConversation | undefined {
    return this.conversations.get(key);
  }

  open(phoneId: string, withParty: string): Thread {
    this.thread = { key: conversationKey(phoneId, withParty), phoneId, with: withParty, messages: new Map(), cursor: null, loaded: false };
    return this.thread;
  }

  close(): void {
    this.thread = null;
  }

  /** A page of the open thread's messages (newest first, as the API gives them). */
  addMessages(thread: Thread, page: MessagesPage): void {
    for (const message of page.messages) thread.messages.set(message.messageSid, mergeMessage(thread.messages.get(message.messageSid), message));
    thread.cursor = page.cursor;
    thread.loaded = true;
  }

  /** Oldest first: the thread shows the newest at the bottom. */
  threadMessages(): SmsMessage[] {
    return [...(this.thread?.messages.values() ?? [])].sort(byTime);
  }

  /** A text received (`countUnread`: one more unread for this user) or sent, or send's answer. */
  addMessage(ref: SmsConversationRef, message: SmsMessage, countUnread: boolean): void {
    const key = conversationKey(ref.phoneId, ref.with);
    const known = this.conversations.get(key);
    const conversation: SmsConversation = known
      ? { ...known }
      : { phoneId: ref.phoneId, phoneNumber: ref.phoneNumber, with: ref.with, lastMessage: null, unread: 0, optedOut: false };
    if (ref.optedOut !== undefined) conversation.optedOut = ref.optedOut;
    if (countUnread && message.direction === 'inbound') conversation.unread += 1;
    const last = conversation.lastMessage;
    if (!last || last.messageSid === message.messageSid) conversation.lastMessage = mergeMessage(last ?? undefined, message);
    else if (message.at >= last.at) conversation.lastMessage = message;
    this.conversations.set(key, conversation);
    if (this.thread?.key === key) {
      this.thread.messages.set(message.messageSid, mergeMessage(this.thread.messages.get(message.messageSid), message));
    }
  }

  applyStatus(update: SmsEventData['sms.status']): void {
    const key = conversationKey(update.phoneId, update.with);
    const conversation = this.conversations.get(key);
    if (conversation?.lastMessage?.messageSid === update.messageSid) {
      this.conversations.set(key, { ...conversation, lastMessage: withStatus(conversation.lastMessage, update) });
    }
    const message = this.thread?.key === key ? this.thread.messages.get(update.messageSid) : undefined;
    if (message) this.thread!.messages.set(update.messageSid, withStatus(message, update));
  }

  /** This user's unread count, from `sms.read` or markRead's answer. */
  applyRead(mark: ReadMark): void {
    const key = conversationKey(mark.phoneId, mark.with);
    const conversation = this.conversations.get(key);
    if (conversation) this.conversations.set(key, { ...conversation, unread: mark.unread });
  }

  clear(): void {
    this.conversations.clear();
    this.cursor = null;
    this.thread = null;
  }
}
