// The package's entry: SoftphonePresence (presence.ts), the lifecycle of docs/client-contract.md
// for one browser with its SMS inbox (inbox.ts) and call history (call-history.ts,
// recent-calls.ts), and the types and helpers an app uses with it.

export { SoftphonePresence } from './presence.js';
export type * from './api.js';
export type * from './environment.js';
export type {
  CallMissedEvent,
  CallsSeenEvent,
  PresenceStatusEvent,
  PhonesChangedEvent,
  VoicemailDeletedEvent,
  CallStateEvent,
  DeviceChange,
  DeviceSignedOutEvent,
  DevicesChangedEvent,
  EventDataByType,
  KnownEventType,
  KnownServerEvent,
  ServerEvent,
  ServerEventOf,
  ServerEventsByType,
  SmsReadEvent,
  SmsReceivedEvent,
  SmsSentEvent,
  SmsStatusEvent,
  UnknownServerEvent,
  VoicemailReceivedEvent,
} from './events.js';
export type { PresenceError } from './outcome.js';
export type { RealtimeState } from './realtime.js';
export { EVENT_TYPES, isEventOf } from './events.js';
export { labelFromUserAgent } from './environment.js';
export { Emitter } from './emitter.js';

export type * from './options.js';
export { TRANSITIONS } from './options.js';
export { STORAGE_KEYS } from './storage.js';
export type * from './sms.js';
export { advancesStatus, mergeMessage, statusRank, withStatus } from './sms.js';
export type { SmsEncoding, SegmentCount } from './segments.js';
export { MAX_SMS_CHARS, segments } from './segments.js';
export type { ErrorDetails, PageOptions } from './requests.js';
export { ServiceError } from './requests.js';
export type { SendOptions } from './inbox.js';
export { SmsError, SmsInbox } from './inbox.js';
export type * from './calls.js';
export { callPosition, describeRinging, isMissed, mergeCall, outcomeRank } from './calls.js';
export type { DeletedVoicemail, SeenMark, VoicemailFormat } from './call-history.js';
export { CallHistory, CallsError } from './call-history.js';
export type { CallsSource, RecentCallsOptions, RecentCallsView } from './recent-calls.js';
export type { Availability, Effective, PersonPresence, StatusUpdate, TeamPage, TeamSource } from './people.js';
export { PeopleError, PresenceStatus, TeamPresence, TeamView } from './people.js';
export { RecentCalls, SETTLE_MS } from './recent-calls.js';
