// The tabs of one browser profile and what they tell each other over the BroadcastChannel:
// who is open (hello, here, bye), a leader's hand-over, and the leader's state, events and log
// for the tabs that wait (the lifecycle acts on those).

import type { PersonPresence } from './people.js';
import type { ChannelConstructor, ChannelLike } from './environment.js';
import type { ServerEvent } from './events.js';
import type { PresenceState, TwilioStatus } from './options.js';
import type { RealtimeState } from './realtime.js';

/** What the tabs of one browser profile tell each other. */
export type TabMessage =
  /** A tab started: every other started tab answers `here`, the leader its state and log. */
  | { type: 'hello'; tab: string }
  | { type: 'here'; tab: string }
  /** A tab stopped or closed. */
  | { type: 'bye'; tab: string }
  /**
   * The leader is closing while other tabs stay: it did not unregister, the next leader
   * registers the same device. What the last tab needs to unregister if it closes before that.
   */
  | { type: 'handover'; tab: string; registrationId?: string; appToken?: string }
  | { type: 'state'; tab: string; state: PresenceState; twilio: TwilioStatus; realtime: RealtimeState }
  | { type: 'signIn' }
  | { type: 'signedOut' }
  /** From the leader: events new to the app, to hand over in every tab. */
  | { type: 'events'; events: ServerEvent[] }
  /** From the leader: everything up to `cursor` was handed over. */
  | { type: 'cursor'; cursor: string }
  /** From the leader to a tab that said hello: its whole log. */
  | { type: 'log'; cursor: string | null; seen: string[] }
  | { type: 'resync' }
  /** To the leader: subscribe to this team (every tab that watches one says so). */
  | { type: 'watch'; team: string }
  /** From the leader: a colleague's presence changed (`team.presence`). */
  | { type: 'team'; person: PersonPresence };

/** The messages about the lifecycle, for the lifecycle to act on. */
export type LifecycleMessage = Exclude<TabMessage, { type: 'hello' | 'here' | 'bye' | 'handover' }>;

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

export class Tabs {
  /** The other started tabs of this browser profile (they said hello or here, not yet bye). */
  readonly peers = new Set<string>();
  /** The leader closed and left the device registered for the next one: until a new one leads. */
  handover: Handover | null = null;
  private channel: ChannelLike | null = null;

  constructor(
    private readonly Channel: ChannelConstructor | null,
    private readonly name: string,
    /** This tab, to the other tabs. */
    readonly tabId: string,
    private readonly host: TabsHost,
  ) {}

  /** Join the channel and say hello (once; again after `close()`). */
  open(): void {
    if (!this.Channel || this.channel) return;
    const channel = new this.Channel(this.name);
    this.channel = channel;
    channel.addEventListener('message', (event) => {
      if (this.channel === channel) this.receive(event.data as TabMessage);
    });
    this.post({ type: 'hello', tab: this.tabId });
  }

  post(message: TabMessage): void {
    try {
      this.channel?.postMessage(message);
    } catch {
      // A closed channel: nobody to tell.
    }
  }

  /** Say bye and leave the channel. */
  close(): void {
    this.post({ type: 'bye', tab: this.tabId });
    this.peers.clear();
    this.handover = null;
    this.channel?.close();
    this.channel = null;
  }

  private receive(message: TabMessage): void {
    switch (message.type) {
      case 'hello':
        this.peers.add(message.tab);
        this.post({ type: 'here', tab: this.tabId });
        this.host.greet();
        return;
      case 'here':
        this.peers.add(message.tab);
        return;
      case 'bye':
        this.peers.delete(message.tab);
        return;
      case 'handover':
        // Kept even by a tab that leads already: until it has registered, that registration
        // is the device's.
        this.peers.delete(message.tab);
        this.handover = {
          from: message.tab,
          ...(message.registrationId ? { registrationId: message.registrationId } : {}),
          ...(message.appToken ? { appToken: message.appToken } : {}),
        };
        return;
      default:
        this.host.message(message);
    }
  }
}
