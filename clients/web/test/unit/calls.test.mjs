// The call history of the library: presence.history (the calls page, the seen mark, voicemail
// as a Blob and its deletion, with the app token in a header), the typed call.missed,
// voicemail.received and calls.seen events, and RecentCalls, whose list and unseen count
// converge on the server's whatever order pages and events (pushed, or caught up) come in.
// Fake clock, server and realtime channel (fakes.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallsError, EVENT_TYPES, RecentCalls, SETTLE_MS, ServiceError, callPosition, describeRinging, mergeCall } from '../../src/softphone-presence.ts';
import { FakeCalls, browser, jsonResponse, settle } from './fakes.mjs';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const sid = (prefix, n) => `${prefix}${String(n).padStart(32, '0')}`;
const MP3 = new Uint8Array([0xff, 0xfb, 0x90, 0x64, 1, 2, 3, 4]);

/** Alice's leading tab, live with its realtime channel, and a RecentCalls following it. */
async function aliceTab({ email = 'alice@example.com' } = {}) {
  const profile = browser({ realtime: true });
  const tab = profile.tab();
  tab.presence.start();
  await profile.clock.advance(0);
  assert.equal(tab.presence.realtimeState, 'connected');
  const recent = new RecentCalls(tab.presence, email ? { email } : {});
  const views = [];
  recent.on('change', (view) => views.push(view));
  return { ...profile, tab, recent, views, calls: profile.server.calls };
}

/** A call to Sales from a customer, `minutes` ago. */
function salesCall(clock, n, minutes = 0) {
  return { callSid: sid('CA', n), startedAt: clock.now() - minutes * MINUTE, from: `+1415555010${n % 10}` };
}

const voicemailOf = (n, durationSeconds = 12) => ({ recordingSid: sid('RE', n), durationSeconds });

test('presence.history: calls page, seen mark, voicemail as a Blob, deletion: each with the app token in a header', async () => {
  const { tab, server, calls, clock } = await aliceTab();
  const call = calls.add({ ...salesCall(clock, 1), outcome: 'voicemail', voicemail: voicemailOf(1) });
  calls.recordings.set(sid('RE', 1), { type: 'audio/mpeg', bytes: MP3 });

  const page = await tab.presence.history.calls({ before: `${'0'.repeat(16)}:${sid('CA', 9)}`, limit: 10 });
  assert.deepEqual(page, { calls: [], cursor: null, unseenMissed: 0 });
  const first = await tab.presence.history.calls({ limit: 10 });
  assert.equal(first.calls[0].callSid, call.callSid);
  const reads = server.of('/phone/calls');
  assert.equal(reads[0].query.get('before'), `${'0'.repeat(16)}:${sid('CA', 9)}`);
  assert.equal(reads[1].query.toString(), 'limit=10');
  for (const request of reads) assert.equal(request.init.headers.Authorization, 'Bearer app-jwt');

  assert.deepEqual(await tab.presence.history.markCallsSeen(call.callSid), { upTo: call.callSid });
  const [seen] = server.of('/phone/calls/seen');
  assert.deepEqual(seen.body, { upTo: call.callSid });
  assert.equal(seen.init.method, 'POST');

  const blob = await tab.presence.history.voicemail(sid('RE', 1));
  assert.equal(blob.type, 'audio/mpeg');
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), MP3);
  assert.equal((await tab.presence.history.voicemail(sid('RE', 1), { format: 'wav' })).type, 'audio/wav');
  const plays = server.requests.filter((r) => r.path === `/phone/voicemail/${sid('RE', 1)}`);
  assert.deepEqual(plays.map((r) => [r.init.method, r.query.toString(), r.init.headers.Authorization]), [
    ['GET', '', 'Bearer app-jwt'],
    ['GET', 'format=wav', 'Bearer app-jwt'],
  ]);
  for (const request of plays) assert.doesNotMatch(request.query.toString(), /jwt|token/i, 'the token is never in a URL');

  assert.deepEqual(await tab.presence.history.deleteVoicemail(sid('RE', 1)), { recordingSid: sid('RE', 1), deleted: true });
  assert.equal(server.requests.at(-1).init.method, 'DELETE');
  assert.deepEqual(calls.deleted, [sid('RE', 1)]);
  const gone = await tab.presence.history.voicemail(sid('RE', 1)).catch((error) => error);
  assert.ok(gone instanceof CallsError && gone instanceof ServiceError);
  assert.equal(gone.name, 'CallsError');
  assert.equal(gone.code, 'not_found');
  assert.equal(gone.status, 404);
});

test('call.missed, voicemail.received and calls.seen arrive typed under their own names, in the leading tab and the others', async () => {
  for (const type of ['call.missed', 'voicemail.received', 'calls.seen']) assert.ok(EVENT_TYPES.includes(type), type);
  const profile = browser({ realtime: true });
  const leader = profile.tab();
  leader.presence.start();
  await profile.clock.advance(0);
  const other = profile.tab();
  other.presence.start();
  await profile.clock.advance(0);
  const call = salesCall(profile.clock, 1);
  const missed = profile.server.calls.missed(call);
  const voicemail = profile.server.calls.voicemailLeft(call, voicemailOf(1), MP3);
  const seen = profile.server.calls.markSeen(call.callSid);
  await settle();
  for (const tab of [leader, other]) {
    assert.deepEqual(tab.events['call.missed'], [missed]);
    assert.deepEqual(tab.events['voicemail.received'], [voicemail]);
    assert.deepEqual(tab.events['calls.seen'], [seen]);
  }
  assert.deepEqual(missed.data, {
    callSid: call.callSid,
    direction: 'inbound',
    from: call.from,
    to: '+14155551234',
    phoneId: 'phone-sales',
    phoneNumber: '+14155551234',
    startedAt: call.startedAt,
    reason: 'no_answer',
  });
});

test('RecentCalls: newest first; unseenMissed counts as the server does (missed and voicemail to Alice, not the calls she placed)', async () => {
  const { recent, calls, clock, views, tab } = await aliceTab();
  calls.add({ ...salesCall(clock, 1, 50), outcome: 'answered', answeredBy: { identity: 'u_org_5Fdemo__bob_40example_2Ecom', name: 'Bob Brown' }, durationSeconds: 42 });
  calls.add({ ...salesCall(clock, 2, 40), outcome: 'missed', reason: 'nobody_live' });
  calls.add({ callSid: sid('CA', 3), startedAt: clock.now() - 30 * MINUTE, direction: 'internal', from: 'alice@example.com', to: 'carol@example.com', phoneId: null, phoneNumber: null, outcome: 'missed', reason: 'no_answer' });
  calls.add({ callSid: sid('CA', 4), startedAt: clock.now() - 20 * MINUTE, direction: 'internal', from: 'dave@example.com', to: 'alice@example.com', phoneId: null, phoneNumber: null, outcome: 'voicemail', voicemail: voicemailOf(4) });
  calls.add({ callSid: sid('CA', 5), startedAt: clock.now() - 10 * MINUTE, direction: 'outbound', from: '+14155551234', to: '+14155550199', phoneId: null, phoneNumber: null, outcome: 'missed', reason: 'busy' });
  await recent.load();
  assert.deepEqual(recent.calls.map((c) => c.callSid), [5, 4, 3, 2, 1].map((n) => sid('CA', n)));
  assert.equal(recent.unseenMissed, 2, 'the Sales call nobody took and Dave’s voicemail');
  assert.equal(recent.unseenMissed, (await tab.presence.history.calls()).unseenMissed);
  assert.equal(recent.calls[4].answeredBy.name, 'Bob Brown');
  assert.equal(views.length, 1);
  assert.equal(views[0].unseenMissed, 2);

  // The same page without Alice's email: an internal call counts only once its event said it was hers.
  const { recent: anonymous, calls: calls2, clock: clock2 } = await aliceTab({ email: null });
  for (const call of calls.entries.values()) calls2.add({ ...call, startedAt: call.startedAt - clock.now() + clock2.now() });
  await anonymous.load();
  assert.equal(anonymous.unseenMissed, 1);
  calls2.missed({ callSid: sid('CA', 6), startedAt: clock2.now(), direction: 'internal', from: 'erin@example.com', to: 'alice@example.com', phoneId: null, phoneNumber: null });
  await settle();
  assert.equal(anonymous.unseenMissed, 2, 'Erin’s missed call to Alice: its event said so');
  await anonymous.load();
  assert.equal(anonymous.unseenMissed, 2, 'and a page read since does not forget it');
});

test('a missed call and then its voicemail, live: one entry counted once; a repeated or late event changes nothing', async () => {
  const { recent, calls, clock, views } = await aliceTab();
  await recent.load();
  const call = salesCall(clock, 1);
  calls.missed(call, 'no_answer');
  await settle();
  assert.deepEqual(
    recent.calls.map((c) => [c.callSid, c.outcome, c.reason, c.seen]),
    [[call.callSid, 'missed', 'no_answer', false]],
  );
  assert.equal(recent.unseenMissed, 1);
  calls.voicemailLeft(call, voicemailOf(1), MP3);
  await settle();
  assert.equal(recent.calls[0].outcome, 'voicemail');
  assert.deepEqual(recent.calls[0].voicemail, voicemailOf(1));
  assert.equal(recent.calls[0].reason, 'no_answer', 'what the miss said stays');
  assert.equal(recent.unseenMissed, 1, 'still one call');
  const settled = JSON.stringify(recent.calls);
  const changes = views.length;

  // The same facts again under new cursors, and a miss that comes after the voicemail.
  const ref = FakeCalls.ref(calls.entries.get(call.callSid));
  calls.publish('call.missed', { ...ref, reason: 'no_answer' });
  calls.publish('voicemail.received', { ...ref, voicemail: voicemailOf(1) });
  await settle();
  assert.equal(JSON.stringify(recent.calls), settled);
  assert.equal(recent.unseenMissed, 1);
  assert.equal(views.length, changes, 'nothing to redraw');
  // A page read now says the same.
  await recent.load();
  assert.equal(JSON.stringify(recent.calls), settled);
});

test('out of order: a voicemail before its miss converges on the same entry', async () => {
  const inOrder = await aliceTab();
  const outOfOrder = await aliceTab();
  for (const { recent } of [inOrder, outOfOrder]) await recent.load();
  const call = salesCall(inOrder.clock, 1);
  inOrder.calls.missed(call);
  inOrder.calls.voicemailLeft(call, voicemailOf(1), MP3);
  outOfOrder.calls.voicemailLeft(call, voicemailOf(1), MP3);
  outOfOrder.calls.missed(call);
  await settle();
  assert.deepEqual(outOfOrder.recent.calls, inOrder.recent.calls);
  assert.equal(outOfOrder.recent.calls[0].outcome, 'voicemail');
  assert.equal(outOfOrder.recent.unseenMissed, 1);
  // mergeCall is the rule: either order of two copies gives one result.
  const missed = { ...outOfOrder.recent.calls[0], outcome: 'missed', voicemail: null };
  assert.deepEqual(mergeCall(missed, inOrder.recent.calls[0]), mergeCall(inOrder.recent.calls[0], missed));
});

test('an event that overtakes a page’s answer: the page read before it loses nothing', async () => {
  const { recent, calls, clock, server } = await aliceTab();
  const call = salesCall(clock, 1);
  calls.missed(call, 'all_busy', { push: false });
  let release;
  server.intercept = (request) => {
    if (request.path !== '/phone/calls') return undefined;
    server.intercept = null;
    const answer = server.handle(request); // read now: only the miss
    return new Promise((resolve) => (release = () => resolve(answer)));
  };
  const loading = recent.load();
  await settle();
  calls.voicemailLeft(call, voicemailOf(1), MP3);
  await settle();
  assert.equal(recent.calls[0].outcome, 'voicemail');
  release();
  await loading;
  assert.equal(recent.calls[0].outcome, 'voicemail');
  assert.deepEqual(recent.calls[0].voicemail, voicemailOf(1));
  assert.equal(recent.calls[0].reason, 'all_busy', 'and the page added what the event did not say');
});

test('an event lost on the way is caught up after a reconnect, and the list converges', async () => {
  const { recent, calls, clock, server } = await aliceTab();
  await recent.load();
  const call = salesCall(clock, 1);
  server.openSockets()[0].serverClose(1006);
  calls.missed(call, 'nobody_live', { push: false });
  assert.equal(recent.calls.length, 0);
  await clock.advance(1 * SECOND);
  assert.equal(server.openSockets().length, 1, 'reconnected');
  assert.deepEqual(recent.calls.map((c) => [c.callSid, c.outcome, c.reason]), [[call.callSid, 'missed', 'nobody_live']]);
  assert.equal(recent.unseenMissed, 1);
});

test('calls.seen from another device clears the count; an older one never moves the mark back; one for a call not here yet reloads', async () => {
  const { recent, calls, clock, server, views } = await aliceTab();
  calls.add({ ...salesCall(clock, 1, 30), outcome: 'missed', reason: 'no_answer' });
  calls.add({ ...salesCall(clock, 2, 20), outcome: 'missed', reason: 'no_answer' });
  await recent.load();
  assert.equal(recent.unseenMissed, 2);
  calls.markSeen(sid('CA', 2));
  await settle();
  assert.equal(recent.unseenMissed, 0);
  assert.ok(recent.calls.every((c) => c.seen));
  assert.equal(views.at(-1).unseenMissed, 0);

  // A late calls.seen for the older call, as catch-up could bring: the mark stays.
  server.publish('calls.seen', { upTo: sid('CA', 1) });
  calls.missed(salesCall(clock, 3));
  await settle();
  assert.equal(recent.unseenMissed, 1, 'the new miss is unseen, the older ones stay seen');
  assert.deepEqual(recent.calls.map((c) => c.seen), [false, true, true]);

  // Another device saw a call this one never heard of (answered elsewhere: no event): reload.
  calls.add({ ...salesCall(clock, 4), startedAt: clock.now() + 1, outcome: 'answered' });
  const reads = server.of('/phone/calls').length;
  calls.markSeen(sid('CA', 4));
  await settle();
  assert.equal(server.of('/phone/calls').length, reads + 1);
  assert.equal(recent.calls[0].callSid, sid('CA', 4));
  assert.equal(recent.unseenMissed, 0);
});

test('markSeen marks up to the newest call, once, and the count clears', async () => {
  const one = await aliceTab();
  one.calls.missed(salesCall(one.clock, 1));
  await settle();
  await one.recent.load();
  await one.recent.markSeen();
  assert.deepEqual(one.server.of('/phone/calls/seen').map((r) => r.body), [{ upTo: sid('CA', 1) }]);
  assert.equal(one.recent.unseenMissed, 0);
  await one.recent.markSeen();
  assert.equal(one.server.of('/phone/calls/seen').length, 1, 'nothing newer to mark');
});

test('a voicemail deleted here never comes back: not with a late event, not with a page read before the delete', async () => {
  const { recent, calls, clock, server } = await aliceTab();
  const call = salesCall(clock, 1);
  calls.missed(call);
  calls.voicemailLeft(call, voicemailOf(1), MP3);
  await recent.load();
  let release;
  server.intercept = (request) => {
    if (request.path !== '/phone/calls') return undefined;
    server.intercept = null;
    const answer = server.handle(request); // read before the delete: with the voicemail
    return new Promise((resolve) => (release = () => resolve(answer)));
  };
  const loading = recent.load();
  await settle();
  await recent.deleteVoicemail(sid('RE', 1));
  assert.deepEqual([recent.calls[0].outcome, recent.calls[0].voicemail], ['missed', null]);
  assert.equal(recent.unseenMissed, 1, 'still a missed call');
  release();
  await loading;
  server.publish('voicemail.received', { ...FakeCalls.ref(calls.entries.get(call.callSid)), voicemail: voicemailOf(1) });
  await settle();
  assert.deepEqual([recent.calls[0].outcome, recent.calls[0].voicemail], ['missed', null]);
});

test('a voicemail deleted on another device (no event) leaves: at the next page if a page showed it, at the page read SETTLE_MS later if only an event did, at once if playing it answers 404', async () => {
  const { recent, calls, clock, server } = await aliceTab();
  calls.voicemailLeft(salesCall(clock, 1, 3), voicemailOf(1), MP3);
  await recent.load(); // a page shows RE1
  calls.voicemailLeft(salesCall(clock, 2, 2), voicemailOf(2), MP3);
  calls.voicemailLeft(salesCall(clock, 3, 1), voicemailOf(3), MP3);
  await settle(); // only their events show RE2 and RE3
  for (const n of [1, 2, 3]) calls.deleteVoicemail(sid('RE', n));
  await assert.rejects(recent.voicemail(sid('RE', 3)), { name: 'CallsError', code: 'not_found' });
  assert.deepEqual(recent.calls.map((c) => c.voicemail?.recordingSid ?? null), [null, sid('RE', 2), sid('RE', 1)]);
  await recent.load();
  const voicemails = () => recent.calls.map((c) => c.voicemail?.recordingSid ?? null);
  assert.deepEqual(voicemails(), [null, sid('RE', 2), null], 'RE2: the page may be a replica behind the event');
  const reads = server.of('/phone/calls').length;
  await clock.advance(SETTLE_MS);
  assert.equal(server.of('/phone/calls').length, reads + 1, 'one more page settles it');
  assert.deepEqual(voicemails(), [null, null, null]);
  assert.deepEqual(recent.calls.map((c) => c.outcome), ['missed', 'missed', 'missed']);
});

test('voicemail.deleted from another device takes it off at once, and a late voicemail.received does not bring it back', async () => {
  const { recent, calls, clock, server, views } = await aliceTab();
  calls.voicemailLeft(salesCall(clock, 1), voicemailOf(1), MP3);
  await recent.load();
  assert.equal(recent.calls[0].voicemail?.recordingSid, sid('RE', 1));
  const shown = views.length;
  server.publish('voicemail.deleted', { callSid: sid('CA', 1), recordingSid: sid('RE', 1) });
  await settle();
  assert.equal(recent.calls[0].voicemail ?? null, null);
  assert.equal(recent.calls[0].outcome, 'missed');
  assert.ok(views.length > shown, 'the page redraws');
  server.publish('voicemail.received', { ...salesCall(clock, 1), voicemail: voicemailOf(1) });
  await settle();
  assert.equal(recent.calls[0].voicemail ?? null, null);
});

test('a page and an event disagree about a voicemail: the page read SETTLE_MS later decides either way', async () => {
  // Bob deleted it; Alice's page (read after) shows none; then an event from before the delete is caught up.
  const late = await aliceTab();
  const call = salesCall(late.clock, 1);
  const stale = late.calls.voicemailLeft(call, voicemailOf(1), MP3, { push: false });
  late.calls.deleteVoicemail(sid('RE', 1));
  await late.recent.load();
  late.server.publish('voicemail.received', stale.data);
  await settle();
  assert.equal(late.recent.calls[0].outcome, 'voicemail', 'until a page settles it');
  await late.clock.advance(SETTLE_MS);
  assert.deepEqual([late.recent.calls[0].outcome, late.recent.calls[0].voicemail], ['missed', null]);

  // Alice's page was read a moment before the recording was stored; its event comes after.
  const early = await aliceTab();
  const other = salesCall(early.clock, 2);
  early.calls.missed(other, 'no_answer', { push: false });
  const before = await (await early.server.handle({ path: '/phone/calls', query: new URLSearchParams() }).clone()).json();
  await early.recent.load();
  early.calls.voicemailLeft(other, voicemailOf(2), MP3);
  await settle();
  // Another page at once, from a replica that has not the recording yet: it does not decide.
  early.server.intercept = (request) => request.path === '/phone/calls' && ((early.server.intercept = null), jsonResponse(200, before));
  await early.recent.load();
  assert.deepEqual(early.recent.calls[0].voicemail, voicemailOf(2));
  await early.clock.advance(SETTLE_MS);
  assert.deepEqual(early.recent.calls[0].voicemail, voicemailOf(2), 'the later page shows it: it stays');
  await early.clock.advance(10 * SETTLE_MS);
  assert.equal(early.server.of('/phone/calls').length, 3, 'settled once: no more pages');
});

test('resync (away longer than the server keeps events) reloads the newest calls; close() stops following', async () => {
  const { recent, calls, clock, server, tab } = await aliceTab();
  await recent.load();
  server.eventRetentionMs = 20 * MINUTE;
  calls.missed(salesCall(clock, 1), 'no_answer', { push: false });
  await clock.advance(25 * MINUTE);
  server.openSockets()[0].serverClose(1006);
  await clock.advance(1 * SECOND);
  assert.deepEqual(tab.events.resync, [{ reason: 'cursor_expired' }]);
  assert.deepEqual(recent.calls.map((c) => c.callSid), [sid('CA', 1)]);
  recent.close();
  calls.missed(salesCall(clock, 2));
  await settle();
  assert.equal(recent.calls.length, 1);
});

test('older pages: loadOlder follows the cursor until the last page', async () => {
  const { tab, calls, clock, server } = await aliceTab();
  const small = new RecentCalls(tab.presence, { pageSize: 2 });
  for (let n = 1; n <= 5; n += 1) calls.add({ ...salesCall(clock, n, 10 - n), outcome: 'missed', reason: 'no_answer' });
  await small.load();
  assert.equal(small.calls.length, 2);
  assert.ok(small.hasOlder);
  await small.loadOlder();
  await small.loadOlder();
  assert.equal(small.hasOlder, false);
  await small.loadOlder();
  assert.deepEqual(small.calls.map((c) => c.callSid), [5, 4, 3, 2, 1].map((n) => sid('CA', n)));
  const befores = server.of('/phone/calls').map((r) => r.query.get('before'));
  assert.deepEqual(befores, [null, callPosition(small.calls[1]), callPosition(small.calls[3])]);
});

test('describeRinging: who each step offered the call to, and who answered after how long; copies merge their steps', () => {
  const base = {
    callSid: sid('CA', 7), direction: 'inbound', from: '+14155550100', to: '+14155551235', phoneId: 'phone-support', phoneNumber: '+14155551235',
    outcome: 'answered', reason: null, answeredBy: null, answeredAt: null, endedAt: null, durationSeconds: null, voicemail: null, seen: false,
    startedAt: 1_000_000, offeredTo: [],
  };
  assert.equal(describeRinging(base), null, 'no step recorded');
  const steps = [
    { step: 1, at: 1_000_000, to: ['carol@example.com'] },
    { step: 2, at: 1_010_000, to: ['bob@example.com', 'dave@example.com', 'erin@example.com'] },
  ];
  const answered = { ...base, offeredTo: steps, answeredBy: { identity: 'u_org_5Fdemo__bob_40example_2Ecom', name: 'Bob Brown' }, answeredAt: 1_018_400 };
  const names = { 'carol@example.com': 'Carol Chen', 'bob@example.com': 'Bob Brown' };
  assert.equal(
    describeRinging(answered, (email) => names[email] ?? email),
    'Rang Carol Chen, then Bob Brown, dave@example.com and erin@example.com; Bob Brown answered after 18 s',
  );
  assert.equal(describeRinging({ ...answered, answeredBy: null, answeredAt: null }), 'Rang carol@example.com, then bob@example.com, dave@example.com and erin@example.com');
  assert.equal(describeRinging(answered, undefined, 'you'), 'Rang carol@example.com, then bob@example.com, dave@example.com and erin@example.com; you answered after 18 s');
  // A copy that knows step 1 and one that knows step 2: either order, both steps.
  const first = { ...base, offeredTo: [steps[0]] };
  const second = { ...base, offeredTo: [steps[1]] };
  assert.deepEqual(mergeCall(first, second).offeredTo, steps);
  assert.deepEqual(mergeCall(second, first).offeredTo, steps);
});
