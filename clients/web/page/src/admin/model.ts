// The admin console's records, in the directory file's shape (docs/directory.md), and the pure
// steps from a form to the record a PUT sends. No DOM here: the unit tests run these in Node.
//
// The rule every builder follows: start from the record as read (with its ETag) and change only
// what the admin edited. A field the console has no control for (a group's hours, a number's
// `whenBusy`, a voicemail's `maxLengthSeconds`, a field a newer server added) goes back as it
// came, so a save here never drops what someone set elsewhere.

export type Strategy = 'simultaneous' | 'sequential' | 'roundRobin' | 'longestIdle';

export const STRATEGIES: readonly Strategy[] = ['simultaneous', 'sequential', 'roundRobin', 'longestIdle'];

/** The defaults the server applies to a field left out (it also leaves them out when it answers). */
export const GROUP_DEFAULTS = {
  ringTimeoutSeconds: 30,
  skipBusyMembers: true,
  strategy: 'simultaneous' as Strategy,
  memberRingSeconds: 15,
  batchSize: 1,
};

export interface DirectoryUser {
  email: string;
  name?: string;
}

/** `voicemail`, `hangup`, `ai_assistant`, `automation`, …: open, so a type the console does not edit is kept. */
export interface Fallback {
  type: string;
  [field: string]: unknown;
}

export interface Group {
  id: string;
  name: string;
  members: string[];
  ringTimeoutSeconds?: number;
  fallback?: Fallback;
  skipBusyMembers?: boolean;
  hours?: unknown;
  strategy?: Strategy;
  memberRingSeconds?: number;
  batchSize?: number;
  [field: string]: unknown;
}

export interface Voicemail {
  greeting?: string;
  greetingUrl?: string;
  maxLengthSeconds?: number;
  transcribe?: boolean;
  recordingStatusCallback?: string;
  [field: string]: unknown;
}

export interface Phone {
  id: string;
  phoneNumber: string;
  friendlyName: string;
  /** Exactly one of `userEmail` and `groupId`. */
  userEmail?: string;
  groupId?: string;
  voicemail?: Voicemail;
  whenBusy?: 'ring' | 'fallback';
  sms?: { forwardTo?: string; [field: string]: unknown };
  hours?: unknown;
  [field: string]: unknown;
}

/** `GET /phone/admin/directory`: one org. Empty lists may be left out. */
export interface OrgDirectory {
  orgId: string;
  users?: DirectoryUser[];
  groups?: Group[];
  phones?: Phone[];
  outbound?: unknown;
}

export type Kind = 'users' | 'groups' | 'phones';

export interface RecordOf {
  users: DirectoryUser;
  groups: Group;
  phones: Phone;
}

// ── groups ──────────────────────────────────────────────────────────────────

/**
 * The fallback picker: `keep` leaves a type the console cannot edit (an AI assistant, an
 * automation URL) exactly as it is.
 */
export type FallbackChoice =
  | { kind: 'keep' }
  | { kind: 'none' }
  | { kind: 'voicemail'; greeting: string }
  | { kind: 'hangup'; message: string };

export type FallbackKind = FallbackChoice['kind'];

/** What the group form holds. Numbers come from `<input type="number">`'s `valueAsNumber`. */
export interface GroupForm {
  id: string;
  name: string;
  members: string[];
  ringTimeoutSeconds: number;
  skipBusyMembers: boolean;
  strategy: Strategy;
  memberRingSeconds: number;
  batchSize: number;
  fallback: FallbackChoice;
}

/** The form's starting values for a group as read (or a new one: `null`). */
export function groupForm(group: Group | null): GroupForm {
  return {
    id: group?.id ?? '',
    name: group?.name ?? '',
    members: [...(group?.members ?? [])],
    ringTimeoutSeconds: group?.ringTimeoutSeconds ?? GROUP_DEFAULTS.ringTimeoutSeconds,
    skipBusyMembers: group?.skipBusyMembers ?? GROUP_DEFAULTS.skipBusyMembers,
    strategy: group?.strategy ?? GROUP_DEFAULTS.strategy,
    memberRingSeconds: group?.memberRingSeconds ?? GROUP_DEFAULTS.memberRingSeconds,
    batchSize: group?.batchSize ?? GROUP_DEFAULTS.batchSize,
    fallback: fallbackChoice(group?.fallback),
  };
}

/** How the picker shows a group's fallback. */
export function fallbackChoice(fallback: Fallback | undefined): FallbackChoice {
  if (!fallback) return { kind: 'none' };
  if (fallback.type === 'voicemail') return { kind: 'voicemail', greeting: typeof fallback.greeting === 'string' ? fallback.greeting : '' };
  if (fallback.type === 'hangup') return { kind: 'hangup', message: typeof fallback.message === 'string' ? fallback.message : '' };
  return { kind: 'keep' };
}

/**
 * The fallback to store. A voicemail keeps its other settings (length, transcription, a
 * recording callback) when only its greeting is edited; an empty text leaves the field out
 * (the server's default greeting, or a hangup without a message).
 */
export function fallbackFrom(choice: FallbackChoice, previous: Fallback | undefined): Fallback | undefined {
  switch (choice.kind) {
    case 'keep':
      return previous;
    case 'none':
      return undefined;
    case 'voicemail': {
      const base: Fallback = previous?.type === 'voicemail' ? { ...previous } : { type: 'voicemail' };
      return withText(base, 'greeting', choice.greeting);
    }
    case 'hangup':
      return withText({ type: 'hangup' }, 'message', choice.message);
  }
}

/** `record` with `field` set to the trimmed `text`, or without the field when it is empty. */
function withText<T extends Record<string, unknown>>(record: T, field: string, text: string): T {
  const copy: Record<string, unknown> = { ...record };
  if (text.trim() === '') delete copy[field];
  else copy[field] = text.trim();
  return copy as T;
}

/**
 * The body of `PUT /phone/admin/groups/{id}`: the group as read, with the form's fields. A
 * setting at its default that the group did not spell out stays left out, as the server stores
 * it: the record differs from the one read only where the admin changed something.
 */
export function groupBody(previous: Group | null, form: GroupForm): Group {
  const group: Group = {
    ...(previous ?? {}),
    id: previous?.id ?? form.id.trim(),
    name: form.name.trim(),
    members: [...form.members],
    ringTimeoutSeconds: form.ringTimeoutSeconds,
  };
  for (const field of ['skipBusyMembers', 'strategy', 'memberRingSeconds', 'batchSize'] as const) {
    if (form[field] === GROUP_DEFAULTS[field] && previous?.[field] === undefined) delete group[field];
    else Object.assign(group, { [field]: form[field] });
  }
  const fallback = fallbackFrom(form.fallback, previous?.fallback);
  if (fallback) group.fallback = fallback;
  else delete group.fallback;
  return group;
}

/** `members` with the one at `index` moved by `delta` (-1 up, +1 down); unchanged at an end. */
export function moveMember(members: readonly string[], index: number, delta: number): string[] {
  const to = index + delta;
  const moved = [...members];
  if (index < 0 || index >= moved.length || to < 0 || to >= moved.length) return moved;
  const [member] = moved.splice(index, 1);
  moved.splice(to, 0, member as string);
  return moved;
}

// ── numbers ─────────────────────────────────────────────────────────────────

/** Whom a number rings, as the form's select holds it: `user:<email>` or `group:<id>`. */
export type Who = `user:${string}` | `group:${string}`;

export function whoOf(phone: Phone): Who {
  return phone.groupId !== undefined ? `group:${phone.groupId}` : `user:${phone.userEmail ?? ''}`;
}

export interface PhoneForm {
  who: Who;
  friendlyName: string;
  /** The voicemail greeting; empty: none. */
  greeting: string;
  /** `sms.forwardTo`; empty: none. */
  forwardTo: string;
}

export function phoneForm(phone: Phone): PhoneForm {
  return {
    who: whoOf(phone),
    friendlyName: phone.friendlyName,
    greeting: phone.voicemail?.greeting ?? '',
    forwardTo: phone.sms?.forwardTo ?? '',
  };
}

/**
 * The body of `PUT /phone/admin/phones/{id}`. A greeting or forwarding number left as it was
 * keeps its object as it was (a voicemail with only a `greetingUrl` shows an empty greeting:
 * saving the name must not remove that voicemail). A cleared one is removed, and its object too
 * when nothing else is left in it.
 */
export function phoneBody(previous: Phone, form: PhoneForm): Phone {
  const phone: Phone = { ...previous, friendlyName: form.friendlyName.trim() };
  delete phone.userEmail;
  delete phone.groupId;
  const [kind, ...rest] = form.who.split(':');
  const target = rest.join(':');
  if (kind === 'group') phone.groupId = target;
  else phone.userEmail = target;

  const was = phoneForm(previous);
  if (form.greeting.trim() !== was.greeting) setOrDrop(phone, 'voicemail', withText(previous.voicemail ?? {}, 'greeting', form.greeting));
  if (form.forwardTo.trim() !== was.forwardTo) setOrDrop(phone, 'sms', withText(previous.sms ?? {}, 'forwardTo', form.forwardTo));
  return phone;
}

function setOrDrop(phone: Phone, field: 'voicemail' | 'sms', value: Record<string, unknown>): void {
  if (Object.keys(value).length === 0) delete phone[field];
  else phone[field] = value;
}

// ── users ───────────────────────────────────────────────────────────────────

/** The body of `PUT /phone/admin/users/{email}`; an empty name is left out (the email shows). */
export function userBody(previous: DirectoryUser | null, email: string, name: string): DirectoryUser {
  return withText({ ...(previous ?? {}), email: previous?.email ?? email.trim().toLowerCase() }, 'name', name);
}
