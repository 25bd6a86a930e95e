// The admin console's pure steps (page/src/admin/): the record a form's save sends (only what
// the admin edited changes; what the console has no control for goes back as it came), moving
// members, what the audit log says of an entry, and what a refusal tells the admin.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changes, describeAudit } from '../../page/src/admin/audit-text.ts';
import { failure } from '../../page/src/admin/messages.ts';
import { fallbackChoice, groupBody, groupForm, moveMember, phoneBody, phoneForm, userBody } from '../../page/src/admin/model.ts';

const HOURS = { timeZone: 'America/New_York', weekly: { mon: [['09:00', '17:00']] } };

/** Sales as GET /phone/admin/groups/grp-sales answers it: defaults left out, hours the console does not edit. */
const SALES = {
  id: 'grp-sales',
  name: 'Sales',
  members: ['alice@example.com', 'bob@example.com'],
  ringTimeoutSeconds: 25,
  fallback: { type: 'voicemail', greeting: 'Sales is busy. Please leave a message.', maxLengthSeconds: 120 },
  hours: HOURS,
};

test('a group form starts from the group, with the server’s defaults for what it leaves out', () => {
  assert.deepEqual(groupForm(SALES), {
    id: 'grp-sales',
    name: 'Sales',
    members: ['alice@example.com', 'bob@example.com'],
    ringTimeoutSeconds: 25,
    skipBusyMembers: true,
    strategy: 'simultaneous',
    memberRingSeconds: 15,
    batchSize: 1,
    fallback: { kind: 'voicemail', greeting: 'Sales is busy. Please leave a message.' },
  });
  assert.equal(groupForm(null).id, '');
  assert.deepEqual(groupForm(null).members, []);
  assert.deepEqual(groupForm(null).fallback, { kind: 'none' });
});

test('the group PUT body: the form’s fields over the group as read; hours and voicemail settings kept', () => {
  const form = { ...groupForm(SALES), ringTimeoutSeconds: 40, members: ['alice@example.com', 'bob@example.com', 'carol@example.com'] };
  assert.deepEqual(groupBody(SALES, form), {
    id: 'grp-sales',
    name: 'Sales',
    members: ['alice@example.com', 'bob@example.com', 'carol@example.com'],
    ringTimeoutSeconds: 40,
    fallback: { type: 'voicemail', greeting: 'Sales is busy. Please leave a message.', maxLengthSeconds: 120 },
    hours: HOURS,
  });
  // A new greeting keeps the voicemail's length; an empty one leaves the default greeting.
  const greeting = groupBody(SALES, { ...form, fallback: { kind: 'voicemail', greeting: '  Back soon.  ' } });
  assert.deepEqual(greeting.fallback, { type: 'voicemail', greeting: 'Back soon.', maxLengthSeconds: 120 });
  assert.deepEqual(groupBody(SALES, { ...form, fallback: { kind: 'voicemail', greeting: '' } }).fallback, { type: 'voicemail', maxLengthSeconds: 120 });
  // Hang up with a message; none at all.
  assert.deepEqual(groupBody(SALES, { ...form, fallback: { kind: 'hangup', message: 'Closed.' } }).fallback, { type: 'hangup', message: 'Closed.' });
  assert.deepEqual(groupBody(SALES, { ...form, fallback: { kind: 'hangup', message: ' ' } }).fallback, { type: 'hangup' });
  assert.equal('fallback' in groupBody(SALES, { ...form, fallback: { kind: 'none' } }), false);
  // A voicemail chosen in place of a hangup starts afresh.
  const night = { ...SALES, fallback: { type: 'hangup', message: 'Nobody is on the night line right now.' } };
  assert.deepEqual(groupBody(night, { ...form, fallback: { kind: 'voicemail', greeting: 'Leave a message.' } }).fallback, {
    type: 'voicemail',
    greeting: 'Leave a message.',
  });
});

test('settings at their default stay left out unless the group spelled them out or the admin changed them', () => {
  const sequential = groupBody(SALES, { ...groupForm(SALES), strategy: 'sequential', memberRingSeconds: 10, skipBusyMembers: false });
  assert.equal(sequential.strategy, 'sequential');
  assert.equal(sequential.memberRingSeconds, 10);
  assert.equal(sequential.skipBusyMembers, false);
  assert.equal('batchSize' in sequential, false);
  const spelledOut = { ...SALES, strategy: 'simultaneous', batchSize: 1 };
  const again = groupBody(spelledOut, groupForm(spelledOut));
  assert.equal(again.strategy, 'simultaneous');
  assert.equal(again.batchSize, 1);
  assert.deepEqual(groupBody(SALES, groupForm(SALES)), SALES, 'saved unchanged, it is the same record');
});

test('a fallback the console does not edit (an AI assistant) is kept exactly as it was', () => {
  const support = { ...SALES, id: 'grp-support', fallback: { type: 'ai_assistant', url: 'wss://assistant.example.com/stream' } };
  const form = groupForm(support);
  assert.deepEqual(form.fallback, { kind: 'keep' });
  assert.deepEqual(groupBody(support, { ...form, name: 'Support' }).fallback, support.fallback);
  assert.deepEqual(fallbackChoice(undefined), { kind: 'none' });
});

test('a new group takes the id of the form; the id of a group read never changes', () => {
  const form = { ...groupForm(null), id: ' grp-new ', name: ' New ', members: ['dave@example.com'] };
  const created = groupBody(null, form);
  assert.equal(created.id, 'grp-new');
  assert.equal(created.name, 'New');
  assert.equal('fallback' in created, false);
  assert.equal(groupBody(SALES, { ...groupForm(SALES), id: 'other' }).id, 'grp-sales');
});

test('members move up and down; nothing moves past an end', () => {
  const members = ['a', 'b', 'c'];
  assert.deepEqual(moveMember(members, 2, -1), ['a', 'c', 'b']);
  assert.deepEqual(moveMember(members, 0, +1), ['b', 'a', 'c']);
  assert.deepEqual(moveMember(members, 0, -1), members);
  assert.deepEqual(moveMember(members, 2, +1), members);
  assert.deepEqual(members, ['a', 'b', 'c'], 'the list given is left alone');
});

const SUPPORT_PHONE = {
  id: 'phone-support',
  phoneNumber: '+14155551235',
  friendlyName: 'Support',
  groupId: 'grp-support',
  sms: { forwardTo: '+14155557777' },
  hours: HOURS,
};

test('the number PUT body: whom it rings, its name, greeting and forwarding; the rest as read', () => {
  const form = phoneForm(SUPPORT_PHONE);
  assert.deepEqual(form, { who: 'group:grp-support', friendlyName: 'Support', greeting: '', forwardTo: '+14155557777' });
  assert.deepEqual(phoneBody(SUPPORT_PHONE, form), SUPPORT_PHONE, 'saved unchanged, it is the same record');

  const toCarol = phoneBody(SUPPORT_PHONE, { ...form, who: 'user:carol@example.com', greeting: 'Carol is away.', forwardTo: '' });
  assert.deepEqual(toCarol, {
    id: 'phone-support',
    phoneNumber: '+14155551235',
    friendlyName: 'Support',
    userEmail: 'carol@example.com',
    voicemail: { greeting: 'Carol is away.' },
    hours: HOURS,
  });
});

test('a greeting left as it was keeps its voicemail; a cleared one goes, and the voicemail with it only when empty', () => {
  const recorded = { id: 'p', phoneNumber: '+14155550009', friendlyName: 'Front desk', userEmail: 'erin@example.com', voicemail: { greetingUrl: 'https://example.com/hi.mp3' } };
  assert.deepEqual(phoneBody(recorded, { ...phoneForm(recorded), friendlyName: 'Reception' }).voicemail, recorded.voicemail);
  const alice = { id: 'phone-alice', phoneNumber: '+14155550001', friendlyName: 'Alice direct', userEmail: 'alice@example.com', voicemail: { greeting: 'Alice is away.', maxLengthSeconds: 120 } };
  assert.deepEqual(phoneBody(alice, { ...phoneForm(alice), greeting: '' }).voicemail, { maxLengthSeconds: 120 });
  const bob = { ...alice, voicemail: { greeting: 'Bob is on another call.' } };
  assert.equal('voicemail' in phoneBody(bob, { ...phoneForm(bob), greeting: '' }), false);
});

test('a user body: the email in lower case, an empty name left out, the email of a user read kept', () => {
  assert.deepEqual(userBody(null, ' Frank@Example.com ', 'Frank Fisher'), { email: 'frank@example.com', name: 'Frank Fisher' });
  assert.deepEqual(userBody({ email: 'frank@example.com', name: 'Frank Fisher' }, 'ignored', ''), { email: 'frank@example.com' });
});

test('the audit log says who did what to which record, and each field that changed', () => {
  const after = { ...SALES, ringTimeoutSeconds: 40, members: ['alice@example.com', 'carol@example.com'] };
  const entry = { at: 1, actor: 'alice@example.com', action: 'group.updated', record: { kind: 'group', id: 'grp-sales' }, before: SALES, after };
  assert.deepEqual(describeAudit(entry), {
    what: 'changed the group Sales (grp-sales)',
    changes: ['members: added carol@example.com; removed bob@example.com', 'ringTimeoutSeconds: 25 → 40'],
  });
  const created = describeAudit({
    ...entry,
    action: 'user.created',
    record: { kind: 'user', id: 'frank@example.com' },
    before: null,
    after: { email: 'frank@example.com', name: 'Frank Fisher' },
  });
  assert.deepEqual(created, { what: 'added the person Frank Fisher <frank@example.com>', changes: ['name: "Frank Fisher"'] });
  const deleted = describeAudit({ ...entry, action: 'group.deleted', before: SALES, after: null });
  assert.equal(deleted.what, 'deleted the group Sales (grp-sales)');
  assert.ok(deleted.changes.includes('ringTimeoutSeconds: was 25'));
});

test('audit changes: nested fields one line each, set and removed fields, a new order', () => {
  const greeting = { ...SALES, fallback: { ...SALES.fallback, greeting: 'Back soon.' } };
  assert.deepEqual(changes(SALES, greeting), ['fallback.greeting: "Sales is busy. Please leave a message." → "Back soon."']);
  assert.deepEqual(changes({ a: 1 }, { b: true }), ['a: removed (was 1)', 'b: set to true']);
  assert.deepEqual(changes({ members: ['a', 'b'] }, { members: ['b', 'a'] }), ['members: new order b, a']);
  assert.deepEqual(changes(SALES, SALES), []);
});

const NAMES = (ref) => ({ 'phone:phone-sales': 'the number Sales (phone-sales)', 'group:grp-sales': 'the group Sales (grp-sales)' })[ref] ?? ref;
const refusal = (status, extra = {}) => ({ status, code: 'x', message: 'refused', problems: [], referencedBy: [], ...extra });

test('a stale save says someone else changed the record and offers Reload', () => {
  assert.deepEqual(failure(refusal(412), 'save', 'Sales', NAMES), {
    text: 'Someone else changed Sales since you opened it. Reload to see their change, then make yours again.',
    lines: [],
    reload: true,
  });
  assert.equal(failure(refusal(412), 'create', 'frank@example.com', NAMES).text, 'Someone else already added frank@example.com. Reload to see it, then make your change again.');
  assert.equal(failure(refusal(412), 'delete', 'Sales', NAMES).reload, true);
});

test('a delete refused with 409 names what still uses the record', () => {
  const alice = failure(refusal(409, { referencedBy: ['phone:phone-sales', 'group:grp-sales'] }), 'delete', 'Alice Adams', NAMES);
  assert.equal(alice.text, 'Alice Adams cannot be deleted: the number Sales (phone-sales) and the group Sales (grp-sales) still use it. Change them first.');
  assert.equal(alice.reload, false);
  const one = failure(refusal(409, { referencedBy: ['phone:phone-sales'] }), 'delete', 'Sales', NAMES);
  assert.equal(one.text, 'Sales cannot be deleted: the number Sales (phone-sales) still uses it. Change it first.');
});

test('an invalid directory lists each problem with its path', () => {
  const invalid = failure(refusal(400, { problems: [{ path: 'groups[0].members[2]', message: 'not a user of the org' }] }), 'save', 'Sales', NAMES);
  assert.deepEqual(invalid, {
    text: 'Sales was not saved: the directory would not be valid.',
    lines: ['groups[0].members[2]: not a user of the org'],
    reload: false,
  });
  assert.equal(failure(refusal(403), 'save', 'Sales', NAMES).text, 'You are not an admin of this org: you cannot change its directory.');
  assert.equal(failure(refusal(404), 'save', 'Sales', NAMES).text, 'Sales is gone: someone else deleted it since you opened it.');
  assert.equal(failure(refusal(0, { message: 'offline' }), 'save', 'Sales', NAMES).text, 'Could not save Sales: offline.');
});
