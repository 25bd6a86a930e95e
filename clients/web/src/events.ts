// The events of a user's log (docs/client-contract.md, "Realtime channel"): what the realtime
// channel pushes and catch-up returns, typed by `type`, and the cursor bookkeeping that hands
// each one to the app once.

import type { AssignedPhone } from './api.js';
import type { CallEventData } from './calls.js';
import type { SmsEventData } from './sms.js';

/** Why a user's device list changed, in `devices.changed`. */
export type DeviceChange = 'registered' | 'updated' | 'unregistered' | 'evicted' | 'signedOut';

/**
 * The `data` of each event type this version knows. A new type is one entry here and one in
 * `EVENT_TYPES`; a type missing here still reaches the app, untyped, through `on('event')`.
 * The inbox's (`sms.*`, in sms.ts) reach only a device registered with the `sms` capability;
 * the call history's (calls.ts) every device.
 */
export interface EventDataByType extends SmsEventData, CallEventData {
  /** A device of the user registered, changed (label, capabilities, Twilio state), unregistered, was evicted or signed out. Never a plain heartbeat, nor a phone passing from online to push (`reachability` is `online` with `registered` and `updated`). */
  'devices.changed': { deviceId: string; change: DeviceChange; reachability?: 'online' };
  /** `deviceId` was signed out from another device of the user. */
  'device.signedOut': { deviceId: string };
  /** One call leg of the user was answered (`onCall`, since `onCallSince`, epoch ms) or ended. */
  'call.state': { callSid: string; onCall: boolean; onCallSince: number | null };
  /** The user set their status, on this device or another (`until` epoch seconds). */
  'presence.status': { status: 'available' | 'away' | 'dnd'; until: number | null; note: string | null };
  /** An admin changed which numbers ring the user (theirs, or a group's they joined or left): the whole new list, as `GET /phone/user-phones` answers it. */
  'phones.changed': { assignedPhones: AssignedPhone[] };
}

export type KnownEventType = keyof EventDataByType;

/** The types `EventDataByType` describes, at run time: each is also emitted under its own name. */
export const EVENT_TYPES = [
  'devices.changed',
  'device.signedOut',
  'call.state',
  'sms.received',
  'sms.sent',
  'sms.status',
  'sms.read',
  'call.missed',
  'voicemail.received',
  'calls.seen',
  'voicemail.deleted',
  'presence.status',
  'phones.changed',
] as const satisfies readonly KnownEventType[];

/** Does not compile while a type of `EventDataByType` is missing from `EVENT_TYPES`. */
type EveryTypeListed<Unlisted extends never> = Unlisted;
type EventTypesListed = EveryTypeListed<Exclude<KnownEventType, (typeof EVENT_TYPES)[number]>>;

/** One event of a known type: `{ cursor, type, at, data }`. */
export interface ServerEventOf<T extends KnownEventType> {
  /** 20 lower-case hex characters; their string order is the events' order. */
  cursor: string;
  type: T;
  /** When it happened, epoch milliseconds (the server's clock). */
  at: number;
  data: EventDataByType[T];
}

export type DevicesChangedEvent = ServerEventOf<'devices.changed'>;
export type DeviceSignedOutEvent = ServerEventOf<'device.signedOut'>;
export type CallStateEvent = ServerEventOf<'call.state'>;
export type SmsReceivedEvent = ServerEventOf<'sms.received'>;
export type SmsSentEvent = ServerEventOf<'sms.sent'>;
export type SmsStatusEvent = ServerEventOf<'sms.status'>;
export type SmsReadEvent = ServerEventOf<'sms.read'>;
export type CallMissedEvent = ServerEventOf<'call.missed'>;
export type VoicemailReceivedEvent = ServerEventOf<'voicemail.received'>;
export type CallsSeenEvent = ServerEventOf<'calls.seen'>;
export type VoicemailDeletedEvent = ServerEventOf<'voicemail.deleted'>;
export type PresenceStatusEvent = ServerEventOf<'presence.status'>;
export type PhonesChangedEvent = ServerEventOf<'phones.changed'>;

export type KnownServerEvent = { [T in KnownEventType]: ServerEventOf<T> }[KnownEventType];

/** An event of a type this version does not know (a newer server): passed on as it came. */
export interface UnknownServerEvent {
  cursor: string;
  type: string;
  at: number;
  data: unknown;
}

/** What `on('event')` hands over. Narrow it with `isEventOf(event, 'call.state')`. */
export type ServerEvent = KnownServerEvent | UnknownServerEvent;

/** Handlers per known type, merged into the library's events: `on('call.state', …)`. */
export type ServerEventsByType = { [T in KnownEventType]: ServerEventOf<T> };

export function isEventOf<T extends KnownEventType>(event: ServerEvent, type: T): event is ServerEventOf<T> {
  return event.type === type;
}

const CURSOR = /^[0-9a-f]{20}$/;

export function isCursor(value: unknown): value is string {
  return typeof value === 'string' && CURSOR.test(value);
}

/** An event as the wire carries it, or `null` for anything that is not one. */
export function parseEvent(value: unknown): ServerEvent | null {
  if (typeof value !== 'object' || value === null) return null;
  const { cursor, type, at, data } = value as Record<string, unknown>;
  if (!isCursor(cursor) || typeof type !== 'string' || type === '' || typeof at !== 'number') return null;
  if (typeof data !== 'object' || data === null) return null;
  return { cursor, type, at, data } as ServerEvent;
}

/**
 * Which events the app has been given. `cursor` is where the next catch-up starts: every event
 * up to it has been handed over. Catch-up's cursor trails the newest events (by 10 s), so the
 * events after it may come again, as may a pushed event in a catch-up: `seen` remembers the
 * cursors after `cursor`, and an event at or before `cursor` or in `seen` is not new.
 */
export class EventLog {
  private _cursor: string | null = null;
  private readonly seen = new Set<string>();

  get cursor(): string | null {
    return this._cursor;
  }

  /** Whether `event` is new; a new one is remembered. */
  accept(event: ServerEvent): boolean {
    if (this._cursor !== null && event.cursor <= this._cursor) return false;
    if (this.seen.has(event.cursor)) return false;
    this.seen.add(event.cursor);
    return true;
  }

  /** Everything up to `cursor` has been handed over (it never moves back). */
  advance(cursor: string): void {
    if (this._cursor !== null && cursor <= this._cursor) return;
    this._cursor = cursor;
    for (const seen of this.seen) if (seen <= cursor) this.seen.delete(seen);
  }

  snapshot(): { cursor: string | null; seen: string[] } {
    return { cursor: this._cursor, seen: [...this.seen] };
  }

  /** Take over another tab's log (a tab that just opened, from the leader). */
  merge(snapshot: { cursor: string | null; seen: string[] }): void {
    for (const seen of snapshot.seen) if (isCursor(seen)) this.seen.add(seen);
    if (isCursor(snapshot.cursor)) this.advance(snapshot.cursor);
  }
}
