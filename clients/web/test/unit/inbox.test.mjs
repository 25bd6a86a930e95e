// The SMS inbox of the library (presence.inbox): sending with one clientMessageId per text,
// retried with the same one (a retry never texts twice), typed errors, the inbox reads, media,
// the typed sms.* events, and statuses that never move backward. Fake clock and server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVENT_TYPES, SmsError, advancesStatus, isEventOf, mergeMessage, statusRank, withStatus } from '../../src/softphone-presence.ts';
import { browser, errorResponse, settle } from './fakes.mjs';

const SECOND = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/;

function inboxTab(options = {}) {
  const profile = browser({ realtime: true });
  const tab = profile.tab(options);
  return { ...profile, tab, inbox: tab.presence.inbox, sends: () => profile.server.of('/phone/sms/send') };
}

/** The promise's outcome without awaiting it: `{ value }`, `{ error }` or `undefined` while pending. */
function watch(promise) {
  const outcome = { settled: undefined };
  promise.then(
    (value) => (outcome.settled = { value }),
    (error) => (outcome.settled = { error }),
  );
  return outcome;
}

test('send posts phoneId, to, body and a new clientMessageId with the app token, and resolves to the stored message', async () => {
  const { inbox, sends, server } = inboxTab();
  const message = await inbox.send('phone-sales', '+14155550100', 'Hello from Sales');
  const [request] = sends();
  assert.equal(request.init.method, 'POST');
  assert.equal(request.init.headers.Authorization, 'Bearer app-jwt');
  assert.equal(request.init.headers['Content-Type'], 'application/json');
  const { clientMessageId, ...rest } = request.body;
  assert.deepEqual(rest, { phoneId: 'phone-sales', to: '+14155550100', body: 'Hello from Sales' });
  assert.match(clientMessageId, UUID);
  assert.deepEqual(message, server.sms.texted[0]);
  await inbox.send('phone-sales', '+14155550100', 'A second text');
  assert.notEqual(sends()[1].body.clientMessageId, clientMessageId, 'every text gets its own id');
  assert.equal(server.sms.texted.length, 2);
});

test('a 503 with Retry-After is retried after that long with the same clientMessageId: one text', async () => {
  const { inbox, sends, server, clock } = inboxTab();
  server.sms.sendAnswers.push(errorResponse(503, 'twilio_unavailable', { 'Retry-After': '3' }));
  const outcome = watch(inbox.send('phone-sales', '+14155550100', 'Are you open today?'));
  await clock.advance(2.9 * SECOND);
  assert.equal(sends().length, 1, 'nothing before Retry-After has passed');
  assert.equal(outcome.settled, undefined);
  await clock.advance(0.1 * SECOND);
  assert.equal(sends().length, 2);
  const [first, second] = sends();
  assert.equal(second.body.clientMessageId, first.body.clientMessageId);
  assert.equal(second.at - first.at, 3 * SECOND);
  assert.deepEqual(outcome.settled?.value, server.sms.texted[0]);
  assert.equal(server.sms.texted.length, 1);
});

test('an answer lost to the network after the server sent the text: the retry gets the same message, never a second text', async () => {
  const { inbox, sends, server, clock } = inboxTab({ random: () => 0.5 });
  server.sms.sendAnswers.push('lost');
  const outcome = watch(inbox.send('phone-sales', '+14155550100', 'Your order shipped'));
  await settle();
  assert.equal(server.sms.texted.length, 1, 'the first try was sent');
  assert.equal(outcome.settled, undefined, 'and is not an error yet');
  // Backoff without Retry-After: between half and all of 1 s (random 0.5: 750 ms).
  await clock.advance(749);
  assert.equal(sends().length, 1);
  await clock.advance(1);
  assert.equal(sends().length, 2);
  assert.equal(sends()[1].body.clientMessageId, sends()[0].body.clientMessageId);
  assert.deepEqual(outcome.settled?.value, server.sms.texted[0]);
  assert.equal(server.sms.texted.length, 1);
});

test('409 send_in_progress (a first try still on its way) is retried with the same id until it has the answer', async () => {
  const { inbox, sends, server, clock } = inboxTab();
  server.sms.sendAnswers.push(errorResponse(409, 'send_in_progress'), errorResponse(409, 'send_in_progress'));
  const outcome = watch(inbox.send('phone-sales', '+14155550100', 'Hi'));
  await clock.advance(10 * SECOND);
  assert.equal(sends().length, 3);
  assert.equal(new Set(sends().map((r) => r.body.clientMessageId)).size, 1);
  assert.equal(outcome.settled?.value.messageSid, server.sms.texted[0].messageSid);
});

test('refusals reject at once with a typed SmsError carrying the server code, status and field; nothing is retried', async () => {
  const cases = [
    [409, 'recipient_opted_out', undefined],
    [403, 'destination_refused', undefined],
    [403, 'destination_not_allowed', undefined],
    [403, 'phone_not_assigned', undefined],
    [400, 'invalid_field', 'to'],
    [502, 'twilio_refused', undefined],
    [404, 'not_found', undefined],
  ];
  for (const [status, code, field] of cases) {
    const { inbox, sends, server, clock } = inboxTab();
    const message = `the server says ${code}`;
    server.sms.sendAnswers.push(
      new Response(JSON.stringify({ error: { code, message, ...(field ? { field } : {}) } }), {
        status,
        headers: { 'Content-Type': 'application/json' },
      }),
    );
    const outcome = watch(inbox.send('phone-sales', '+14155550100', 'Hi'));
    await clock.advance(120 * SECOND);
    const error = outcome.settled?.error;
    assert.ok(error instanceof SmsError, code);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'SmsError');
    assert.equal(error.code, code);
    assert.equal(error.status, status);
    assert.equal(error.message, message);
    assert.equal(error.field, field);
    assert.equal(error.clientMessageId, sends()[0].body.clientMessageId, 'the id to retry with');
    assert.equal(sends().length, 1, `${code} is not retried`);
    assert.equal(server.sms.texted.length, 0);
  }
});

test('503 every time: four tries with one id, then the twilio_unavailable error with its Retry-After', async () => {
  const { inbox, sends, server, clock } = inboxTab();
  for (let i = 0; i < 4; i += 1) server.sms.sendAnswers.push(errorResponse(503, 'twilio_unavailable', { 'Retry-After': '5' }));
  const outcome = watch(inbox.send('phone-sales', '+14155550100', 'Hi'));
  await clock.advance(60 * SECOND);
  assert.equal(sends().length, 4);
  assert.deepEqual(
    sends().map((r) => r.at - sends()[0].at),
    [0, 5 * SECOND, 10 * SECOND, 15 * SECOND],
  );
  const { error } = outcome.settled;
  assert.equal(error.code, 'twilio_unavailable');
  assert.equal(error.status, 503);
  assert.equal(error.retryAfterMs, 5 * SECOND);
  const id = sends()[0].body.clientMessageId;
  assert.ok(sends().every((r) => r.body.clientMessageId === id));
  assert.equal(error.clientMessageId, id);

  // The app retries later with that id: still one text.
  const message = await inbox.send('phone-sales', '+14155550100', 'Hi', { clientMessageId: id });
  assert.equal(sends().at(-1).body.clientMessageId, id);
  assert.equal(server.sms.texted.length, 1);
  assert.deepEqual(message, server.sms.texted[0]);
});

test('a network error every time ends as `network`; `attempts` and an AbortSignal bound the tries', async () => {
  const { inbox, sends, server, clock } = inboxTab();
  server.intercept = (r) => {
    if (r.path === '/phone/sms/send') throw new TypeError('Failed to fetch');
    return null;
  };
  const once = watch(inbox.send('phone-sales', '+14155550100', 'Hi', { attempts: 1 }));
  await settle();
  assert.equal(once.settled?.error.code, 'network');
  assert.equal(once.settled.error.status, undefined);
  assert.equal(sends().length, 1);

  const controller = new AbortController();
  const aborted = watch(inbox.send('phone-sales', '+14155550100', 'Hi', { signal: controller.signal }));
  await settle();
  assert.equal(sends().length, 2);
  controller.abort();
  await settle();
  assert.equal(aborted.settled?.error.code, 'aborted');
  await clock.advance(60 * SECOND);
  assert.equal(sends().length, 2, 'nothing after the abort');
  assert.equal(server.sms.texted.length, 0);
});

test('an empty body or one over 1,600 characters is refused without a request; 1,600 emoji are 1,600 characters', async () => {
  const { inbox, sends } = inboxTab();
  for (const body of ['', 'a'.repeat(1601), '😀'.repeat(1601)]) {
    await assert.rejects(inbox.send('phone-sales', '+14155550100', body), (error) => {
      assert.ok(error instanceof SmsError);
      assert.equal(error.code, 'invalid_field');
      assert.equal(error.field, 'body');
      return true;
    });
  }
  assert.equal(sends().length, 0);
  await inbox.send('phone-sales', '+14155550100', '😀'.repeat(1600));
  assert.equal(sends().length, 1);
});

test('conversations, messages and markRead: their paths, queries and answers; a 401 is retried once with a refreshed token', async () => {
  const { inbox, server, tab } = inboxTab({ appTokens: ['old-jwt', 'new-jwt'] });
  server.rejectedTokens.add('old-jwt');
  const conversation = {
    phoneId: 'phone-sales',
    phoneNumber: '+14155551234',
    with: '+14155550100',
    lastMessage: null,
    unread: 2,
    optedOut: false,
  };
  server.sms.conversations = [conversation];
  assert.deepEqual(await inbox.conversations(), { conversations: [conversation], cursor: null });
  assert.deepEqual(tab.tokensAsked, ['old-jwt', 'new-jwt (refresh)']);
  await inbox.conversations({ before: '0005f2a1b2c3d4e5f6a70001', limit: 10 });
  await inbox.messages('phone-sales', '+14155550100');
  await inbox.messages('phone-sales', '+14155550100', { before: '00aa', limit: 5 });
  server.sms.unread = 0;
  assert.deepEqual(await inbox.markRead('phone-sales', '+14155550100', 'SM0001'), {
    phoneId: 'phone-sales',
    with: '+14155550100',
    unread: 0,
  });
  const asked = server.requests
    .filter((r) => r.path.startsWith('/phone/sms/') && r.token === 'new-jwt')
    .map((r) => `${r.init.method} ${r.path}${r.query.size ? `?${r.query}` : ''}`);
  assert.deepEqual(asked, [
    'GET /phone/sms/conversations',
    'GET /phone/sms/conversations?before=0005f2a1b2c3d4e5f6a70001&limit=10',
    'GET /phone/sms/messages?phoneId=phone-sales&with=%2B14155550100',
    'GET /phone/sms/messages?phoneId=phone-sales&with=%2B14155550100&before=00aa&limit=5',
    'POST /phone/sms/read',
  ]);
  assert.deepEqual(server.of('/phone/sms/read')[0].body, { phoneId: 'phone-sales', with: '+14155550100', upTo: 'SM0001' });
  server.intercept = (r) => (r.path === '/phone/sms/messages' ? errorResponse(404, 'not_found') : null);
  await assert.rejects(inbox.messages('phone-night', '+14155550100'), { name: 'SmsError', code: 'not_found', status: 404 });
});

test('media(messageSid, index) is a Blob of the file with its content type, fetched with the bearer token', async () => {
  const { inbox, server } = inboxTab();
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
  server.sms.media.set('MM0001/0', { type: 'image/png', bytes: png });
  const blob = await inbox.media('MM0001', 0);
  assert.ok(blob instanceof Blob);
  assert.equal(blob.type, 'image/png');
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), png);
  const [request] = server.of('/phone/sms/media');
  assert.equal(request.init.method, 'GET');
  assert.equal(request.init.headers.Authorization, 'Bearer app-jwt');
  assert.equal(request.query.toString(), 'messageSid=MM0001&index=0');
  await assert.rejects(inbox.media('MM0001', 1), { name: 'SmsError', code: 'not_found', status: 404 });
});

test('sms.* events arrive typed under their own names, in the leading tab and the others', async () => {
  assert.deepEqual(
    EVENT_TYPES.filter((t) => t.startsWith('sms.')),
    ['sms.received', 'sms.sent', 'sms.status', 'sms.read'],
  );
  const profile = browser({ realtime: true });
  const leader = profile.tab({ capabilities: ['voice', 'sms'] });
  leader.presence.start();
  await profile.clock.advance(0);
  const other = profile.tab({ capabilities: ['voice', 'sms'] });
  other.presence.start();
  await profile.clock.advance(0);
  assert.equal(leader.presence.realtimeState, 'connected');
  assert.deepEqual(profile.server.of('/register-device')[0].body.capabilities, ['voice', 'sms']);

  const conversation = { phoneId: 'phone-sales', phoneNumber: '+14155551234', with: '+14155550100' };
  const message = {
    messageSid: 'SM00000000000000000000000000000001',
    direction: 'inbound',
    from: '+14155550100',
    to: '+14155551234',
    body: 'Hi',
    media: [],
    segments: 1,
    status: 'received',
    errorCode: null,
    at: profile.clock.now(),
    sentBy: null,
  };
  const { server } = profile;
  const received = server.publish('sms.received', { conversation, message });
  const sent = server.publish('sms.sent', { conversation, message: { ...message, direction: 'outbound', status: 'queued' } });
  const status = server.publish('sms.status', { phoneId: 'phone-sales', with: '+14155550100', messageSid: 'SM1', status: 'delivered', errorCode: null });
  const read = server.publish('sms.read', { phoneId: 'phone-sales', with: '+14155550100', upTo: message.messageSid, unread: 0 });
  await settle();
  for (const tab of [leader, other]) {
    assert.deepEqual(tab.events['sms.received'], [received]);
    assert.deepEqual(tab.events['sms.sent'], [sent]);
    assert.deepEqual(tab.events['sms.status'], [status]);
    assert.deepEqual(tab.events['sms.read'], [read]);
    assert.deepEqual(tab.events.event, [received, sent, status, read]);
  }
  assert.ok(isEventOf(leader.events.event[0], 'sms.received'));
  assert.ok(!isEventOf(leader.events.event[0], 'sms.sent'));
});

test('statuses only move forward: queued < sending < sent < final; a final one stays; unknown ones never apply', () => {
  const queued = {
    messageSid: 'SM1',
    direction: 'outbound',
    from: '+14155551234',
    to: '+14155550100',
    body: 'Hi',
    media: [],
    segments: 1,
    status: 'queued',
    errorCode: null,
    at: 1,
    sentBy: 'alice@example.com',
  };
  let message = queued;
  const applied = [];
  for (const [status, errorCode] of [
    ['sent', null],
    ['sending', null],
    ['queued', null],
    ['undelivered', 30003],
    ['delivered', null],
    ['sent', null],
    ['receiving', null],
  ]) {
    const next = withStatus(message, { status, errorCode });
    if (next !== message) applied.push(status);
    message = next;
  }
  assert.deepEqual(applied, ['sent', 'undelivered']);
  assert.equal(message.status, 'undelivered');
  assert.equal(message.errorCode, 30003);
  assert.equal(queued.status, 'queued', 'the message given is not changed');

  assert.ok(advancesStatus('accepted', 'sending'));
  assert.ok(!advancesStatus('failed', 'delivered'));
  assert.ok(!advancesStatus('delivered', 'delivered'));
  assert.ok(advancesStatus('delivered', 'read'));
  assert.equal(statusRank('scheduled'), statusRank('queued'));
  assert.equal(statusRank('received'), undefined);

  // send's answer (queued) after the status event (delivered) of the same text.
  const delivered = withStatus(queued, { status: 'delivered', errorCode: null });
  assert.equal(mergeMessage(delivered, queued), delivered);
  assert.equal(mergeMessage(queued, delivered), delivered);
  assert.equal(mergeMessage(undefined, queued), queued);
});
