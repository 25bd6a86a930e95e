// The SMS inbox on the settings page, in Chromium, through the real local server and a fake
// Twilio REST API (harness.mjs): a text to the Sales group shows up live on Alice's and Bob's
// pages, each with their own unread count; Alice's reply goes out through Twilio and shows up
// on Bob's page, and so does its delivery status; refusals are explained in plain words.
// Nothing polls: the pages change with the sms.* events of the realtime channel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACCOUNT_SID, appToken, livePage, messageSid, serverAndBrowser, sleep, webhook, when } from './harness.mjs';

const SALES = '+14155551234';
/** A 1×1 PNG, the picture of an MMS. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

// A 300 s TTL: a heartbeat every 200 s, so nothing seen here can come from one.
const env = serverAndBrowser({ ttlSeconds: 300, fakeTwilio: true });

/** A signed-in settings page, live, with its realtime channel connected; `inboxReads` lists its GETs of the inbox. */
async function userPage(email) {
  const isInboxRead = (request) => request.method() === 'GET' && new URL(request.url()).pathname.startsWith('/phone/sms/');
  const { context, page, requests } = await livePage(env, email, { section: 'inbox', record: isInboxRead });
  return { context, page, inboxReads: requests };
}

/** A text from `from` to `to`, as Twilio's signed webhook brings it; resolves to its MessageSid. */
async function textArrives(from, to, body, extra = {}) {
  const sid = messageSid();
  const twiml = await webhook(env.server.url, '/phone/sms/incoming', {
    MessageSid: sid,
    SmsSid: sid,
    SmsMessageSid: sid,
    AccountSid: ACCOUNT_SID,
    From: from,
    To: to,
    Body: body,
    NumSegments: '1',
    NumMedia: '0',
    ...extra,
  });
  assert.doesNotMatch(twiml, /<Message/, 'someone can read it in the app: nothing is forwarded');
  return sid;
}

const row = (page, withParty) => page.locator(`#conversation-list li[data-phone-id="phone-sales"][data-with="${withParty}"]`);
const bubble = (page, sid) => page.locator(`#thread-messages li[data-sid="${sid}"]`);

test('a text to Sales shows live on Alice’s and Bob’s pages; Alice’s reply and its status show on Bob’s; unread counts are each their own', async () => {
  const customer = '+14155550100';
  const alice = await userPage('alice@example.com');
  const bob = await userPage('bob@example.com');
  for (const { page } of [alice, bob]) await page.getByText('No texts yet').waitFor();
  const readsBefore = [alice.inboxReads.length, bob.inboxReads.length];

  // An MMS: the words and a picture, which Twilio keeps behind the account's API key.
  const sid = messageSid();
  const words = 'Hi, is the blue one still in stock?';
  const seenByAlice = await when(alice.page, '.conversation-preview', { text: words });
  const seenByBob = await when(bob.page, '.conversation-preview', { text: words });
  const sent = Date.now();
  await textArrives(customer, SALES, words, {
    MessageSid: sid,
    SmsSid: sid,
    SmsMessageSid: sid,
    NumMedia: '1',
    MediaUrl0: env.fake.mediaUrl(sid, 'image/png', PNG),
    MediaContentType0: 'image/png',
  });
  const latencies = [(await seenByAlice.at()) - sent, (await seenByBob.at()) - sent];
  console.log(`sms: text to Sales visible on Alice's page after ${latencies[0]} ms, on Bob's after ${latencies[1]} ms`);
  for (const ms of latencies) assert.ok(ms < 2000, `${ms} ms`);
  for (const { page } of [alice, bob]) {
    const conversation = row(page, customer);
    assert.equal(await conversation.locator('.unread').innerText(), '1');
    assert.equal(await conversation.locator('.unread').getAttribute('aria-label'), '1 unread');
    assert.match(await conversation.locator('.conversation-number').innerText(), /Sales · \+14155551234/);
    assert.equal(await conversation.locator('.opted-out').isVisible(), false);
  }
  assert.deepEqual([alice.inboxReads.length, bob.inboxReads.length], readsBefore, 'the text came with an event: no page asked');

  // Alice opens the thread: it is read for her, not for Bob.
  await row(alice.page, customer).getByRole('button').click();
  await bubble(alice.page, sid).getByText(words).waitFor();
  assert.equal(await bubble(alice.page, sid).getAttribute('data-direction'), 'inbound');
  await alice.page.waitForFunction(
    (c) => document.querySelector(`#conversation-list li[data-with="${c}"]`)?.dataset.unread === '0',
    customer,
    { timeout: 2000 },
  );
  assert.equal(await row(alice.page, customer).locator('.unread').isVisible(), false);
  const picture = bubble(alice.page, sid).locator('.message-media img');
  await picture.waitFor();
  await alice.page.waitForFunction((img) => img.complete && img.naturalWidth === 1, await picture.elementHandle());
  assert.match(await picture.getAttribute('src'), /^blob:/, 'fetched with the app token, shown from a blob');
  await sleep(500);
  assert.equal(await row(bob.page, customer).locator('.unread').innerText(), '1', "Bob's count is his own");
  const asBob = await fetch(`${env.server.url}/phone/sms/conversations`, {
    headers: { Authorization: `Bearer ${await appToken(env.server.url, 'bob@example.com')}` },
  }).then((r) => r.json());
  assert.equal(asBob.conversations.find((c) => c.with === customer).unread, 1);

  // Bob opens it too, and watches Alice's reply arrive.
  await row(bob.page, customer).getByRole('button').click();
  await bubble(bob.page, sid).waitFor();

  const reply = 'Yes — two left in blue, and we hold one for you until Friday if you like. Shall I?';
  const box = alice.page.getByLabel(`Reply to ${customer} from Sales (${SALES})`);
  await box.fill(reply);
  assert.equal(await alice.page.locator('#reply-count').innerText(), '2 segments, UCS-2 · 82 / 1,600 characters');
  const replySeenByBob = await when(bob.page, '#thread-messages li[data-direction="outbound"] .message-body', { text: reply });
  const clicked = Date.now();
  await alice.page.getByRole('button', { name: 'Send', exact: true }).click();
  const replyLatency = (await replySeenByBob.at()) - clicked;
  console.log(`sms: Alice's reply visible on Bob's page ${replyLatency} ms after she pressed Send`);
  assert.ok(replyLatency < 2000, `${replyLatency} ms`);
  assert.deepEqual(env.fake.problems, []);
  assert.equal(env.fake.sent.length, 1);
  const [texted] = env.fake.sent;
  assert.deepEqual(
    { To: texted.To, From: texted.From, Body: texted.Body, StatusCallback: texted.StatusCallback },
    { To: customer, From: SALES, Body: reply, StatusCallback: `${env.server.url}/phone/sms/status` },
  );
  const outbound = bubble(bob.page, texted.sid);
  assert.match(await outbound.locator('.message-meta').innerText(), /alice@example\.com · Queued · 2 segments/);
  await bubble(alice.page, texted.sid).locator('.message-status[data-status="queued"]').waitFor();
  assert.equal(await alice.page.locator('#reply-body').inputValue(), '', 'the box is emptied once sent');
  assert.match(await row(bob.page, customer).locator('.conversation-preview').innerText(), /^alice@example\.com: Yes — two left/);
  assert.match(await row(alice.page, customer).locator('.conversation-preview').innerText(), /^You: Yes — two left/);

  // Twilio's status callback: delivered, on both pages; a late "sent" does not move it back.
  const deliveredOnBob = await when(bob.page, `#thread-messages li[data-sid="${texted.sid}"] .message-status`, { status: 'delivered' });
  const posted = Date.now();
  await webhook(env.server.url, '/phone/sms/status', {
    MessageSid: texted.sid,
    SmsSid: texted.sid,
    MessageStatus: 'delivered',
    AccountSid: ACCOUNT_SID,
    From: SALES,
    To: customer,
  });
  const statusLatency = (await deliveredOnBob.at()) - posted;
  console.log(`sms: status "delivered" visible on Bob's page ${statusLatency} ms after the callback was posted`);
  assert.ok(statusLatency < 2000, `${statusLatency} ms`);
  await bubble(alice.page, texted.sid).locator('.message-status[data-status="delivered"]').waitFor({ timeout: 2000 });
  assert.equal(await outbound.locator('.message-status').innerText(), 'Delivered');
  await webhook(env.server.url, '/phone/sms/status', {
    MessageSid: texted.sid,
    MessageStatus: 'sent',
    AccountSid: ACCOUNT_SID,
    From: SALES,
    To: customer,
  });
  await sleep(500);
  for (const page of [alice.page, bob.page]) {
    assert.equal(await bubble(page, texted.sid).locator('.message-status').getAttribute('data-status'), 'delivered');
  }

  // Only what the users did read the inbox: the first list, each opened thread, the picture.
  const reads = (user) => user.inboxReads.map((r) => r.path);
  assert.deepEqual(reads(alice), ['/phone/sms/conversations', '/phone/sms/messages', '/phone/sms/media']);
  assert.deepEqual(reads(bob), ['/phone/sms/conversations', '/phone/sms/messages', '/phone/sms/media']);
  await alice.context.close();
  await bob.context.close();
});

test('refusals in plain words: opted out, destination not allowed, Twilio unavailable (then sent once on retry), too long', async () => {
  const alice = await userPage('alice@example.com');

  // A customer who texted STOP: marked on the conversation, live, and the reply is refused.
  const stopper = '+14155550177';
  await textArrives(stopper, SALES, 'STOP');
  const stopped = row(alice.page, stopper);
  await stopped.locator('.opted-out').waitFor({ timeout: 2000 });
  await stopped.getByRole('button').click();
  await alice.page.getByText(`${stopper} replied STOP`).waitFor();
  const box = alice.page.locator('#reply-body');
  const send = alice.page.getByRole('button', { name: 'Send', exact: true });
  const attempts = env.fake.attempts.length;
  await box.fill('Sorry to see you go');
  await send.click();
  const error = alice.page.locator('#reply-error');
  await error.waitFor();
  assert.equal(await error.getAttribute('data-code'), 'recipient_opted_out');
  assert.match(await error.innerText(), /has opted out of texts from \+14155551234 \(they replied STOP\)\. They must text START/);
  assert.equal(env.fake.attempts.length, attempts, 'Twilio was not asked');

  // A premium-rate number that texted first: a reply may go to any region, never to a premium line.
  const premium = '+19005550123';
  await textArrives(premium, SALES, 'You won! Reply YES');
  await row(alice.page, premium).getByRole('button').click();
  await alice.page.locator('#thread-messages').getByText('You won! Reply YES').waitFor();
  assert.equal(await error.isVisible(), false, 'another thread starts without the last error');
  await box.fill('YES');
  await send.click();
  await alice.page.waitForFunction(() => document.querySelector('#reply-error')?.dataset.code === 'destination_not_allowed');
  assert.match(await error.innerText(), /^\+19005550123 is a premium-rate number/);
  assert.equal(env.fake.attempts.length, attempts, 'Twilio was not asked');

  // Twilio throttles every try: the library retries (Retry-After 1 s), then says so.
  const customer = '+14155550188';
  await textArrives(customer, SALES, 'Can you call me back?');
  await row(alice.page, customer).getByRole('button').click();
  await alice.page.locator('#thread-messages').getByText('Can you call me back?').waitFor();
  const busy = { status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 }, headers: { 'Retry-After': '1' } };
  env.fake.sendAnswers.push(busy, busy, busy, busy);
  const triesBefore = env.fake.attempts.length;
  await box.fill('Sure, in five minutes.');
  await send.click();
  await alice.page.waitForFunction(() => document.querySelector('#reply-error')?.dataset.code === 'twilio_unavailable', null, { timeout: 15_000 });
  assert.match(await error.innerText(), /^Twilio is not answering right now, so the text was not sent\. Try again in a minute/);
  assert.equal(env.fake.attempts.length - triesBefore, 4, 'four tries, one id');
  // Twilio is back: Send again, the same words, the same clientMessageId; one text.
  const sentBefore = env.fake.sent.length;
  await send.click();
  await alice.page.locator('#thread-messages li[data-direction="outbound"]').getByText('Sure, in five minutes.').waitFor();
  assert.equal(env.fake.sent.length, sentBefore + 1);
  assert.equal(await error.isVisible(), false);
  assert.deepEqual(env.fake.problems, []);

  // Over 1,600 characters: refused in the page, nothing sent.
  await box.fill('x'.repeat(1601));
  assert.match(await alice.page.locator('#reply-count').innerText(), /^Too long: 1,601 \/ 1,600 characters/);
  assert.equal(await send.isDisabled(), true);
  await box.fill('x'.repeat(1600));
  assert.equal(await alice.page.locator('#reply-count').innerText(), '11 segments, GSM-7 · 1,600 / 1,600 characters');
  assert.equal(await send.isDisabled(), false);
  await alice.context.close();
});
