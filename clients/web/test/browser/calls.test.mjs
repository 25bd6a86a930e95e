// Recent calls on the settings page, in Chromium, through the real local server, its signed
// webhooks, and a fake Twilio REST API serving and deleting the recording (harness.mjs): a call
// to Sales that rings Alice and nobody answers shows up live as missed with the unseen badge;
// the voicemail its caller leaves shows up live and plays in an <audio> element from the bytes
// Twilio holds (fetched with the app token in a header, never in a URL); it is deleted; Alice's
// other device marks her calls seen and the badge clears here; opening the list marks it seen;
// Bob, the other member of Sales, sees who answered a call and for how long.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACCOUNT_SID, appToken, callSid, livePage, recordingSid, serverAndBrowser, waitFor, webhook, when } from './harness.mjs';

const SALES = '+14155551234';
const CALLER = '+14155550142';
const ALICE = 'u_org_5Fdemo__alice_40example_2Ecom';

/**
 * About a second of MP3 (MPEG-1 Layer III, 128 kbit/s, 44.1 kHz): 40 frames of silence, each a
 * 4-byte header and 413 zero bytes (a frame with no audio data decodes as silence).
 */
const FRAMES = 40;
const MP3 = Buffer.concat(Array.from({ length: FRAMES }, () => Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(413)])));
const MP3_SECONDS = (FRAMES * 1152) / 44100;

// A 300 s TTL: a heartbeat every 200 s, so nothing seen here can come from one.
const env = serverAndBrowser({ ttlSeconds: 300, fakeTwilio: true });

/** A signed-in settings page, live, with its realtime channel connected; `requests` lists its requests of voicemail. */
function userPage(email) {
  const isVoicemail = (request) => new URL(request.url()).pathname.startsWith('/phone/voicemail/');
  return livePage(env, email, { section: 'calls', record: isVoicemail });
}

/** An attribute of the TwiML's first `<tag>`, unescaped, as Twilio reads it. */
function attribute(twiml, tag, name) {
  const match = new RegExp(`<${tag}\\b[^>]*\\s${name}="([^"]*)"`).exec(twiml);
  assert.ok(match, `no <${tag} ${name}> in ${twiml}`);
  return match[1].replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
}

/** A callback posted, signed, to a URL the TwiML gave. */
function follow(url, params) {
  assert.ok(url.startsWith(env.server.url), url);
  return webhook(env.server.url, url.slice(env.server.url.length), params);
}

/** A call from CALLER to Sales: the incoming webhook's TwiML, which must ring Alice. */
async function callSales(sid) {
  const twiml = await webhook(env.server.url, '/phone/voice/incoming', {
    AccountSid: ACCOUNT_SID,
    CallSid: sid,
    CallStatus: 'ringing',
    Direction: 'inbound',
    From: CALLER,
    To: SALES,
  });
  assert.match(twiml, new RegExp(`<Identity>${ALICE}</Identity>`), `Alice's browser is rung: ${twiml}`);
  return twiml;
}

/** The dial's end at the `<Dial action>`: the TwiML that follows. */
function dialEnded(twiml, sid, status, seconds = 0) {
  return follow(attribute(twiml, 'Dial', 'action'), {
    AccountSid: ACCOUNT_SID,
    CallSid: sid,
    CallStatus: 'in-progress',
    From: CALLER,
    To: SALES,
    DialCallStatus: status,
    DialCallSid: callSid(),
    DialCallDuration: String(seconds),
  });
}

async function calls(email) {
  const response = await fetch(`${env.server.url}/phone/calls`, { headers: { Authorization: `Bearer ${await appToken(env.server.url, email)}` } });
  assert.equal(response.status, 200);
  return response.json();
}

const row = (page, sid) => page.locator(`#call-rows li[data-call-sid="${sid}"]`);

test('a missed call and its voicemail show live with the unseen badge; the voicemail plays and is deleted; seen elsewhere, the badge clears; Bob sees who answered', async () => {
  const alice = await userPage('alice@example.com');
  assert.equal(await alice.page.locator('#calls-unseen').isVisible(), false);

  // 1. A call to Sales rings Alice's browser; nobody answers.
  const first = callSid();
  const ringing = await callSales(first);
  const missedShown = await when(alice.page, '#calls-newest', { text: `Missed call from ${CALLER} to Sales` });
  const badgeShown = await when(alice.page, '#calls-unseen:not([hidden])', { text: '1' });
  let sent = Date.now();
  const fallback = await dialEnded(ringing, first, 'no-answer');
  const missedMs = (await missedShown.at()) - sent;
  const badgeMs = (await badgeShown.at()) - sent;
  assert.match(fallback, /<Record\b/, 'the caller is offered the Sales voicemail');
  assert.equal(await row(alice.page, first).getAttribute('data-outcome'), 'missed');
  assert.equal(await row(alice.page, first).getAttribute('data-seen'), 'false');
  assert.match(await row(alice.page, first).locator('.call-meta').textContent(), /Missed \(nobody answered\)/);
  assert.equal(await alice.page.locator('#calls-unseen').getAttribute('aria-label'), '1 missed, not seen yet');

  // 2. The caller leaves a voicemail; Twilio reports the recording (with the parameters it sends: no From, no To).
  const recording = recordingSid();
  env.fake.recording(recording, MP3);
  const voicemailShown = await when(alice.page, `#call-rows li[data-call-sid="${first}"][data-outcome="voicemail"]`);
  sent = Date.now();
  await follow(attribute(fallback, 'Record', 'recordingStatusCallback'), {
    AccountSid: ACCOUNT_SID,
    CallSid: first,
    RecordingSid: recording,
    RecordingUrl: `${env.fake.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${recording}`,
    RecordingStatus: 'completed',
    RecordingDuration: '1',
    RecordingChannels: '1',
    RecordingSource: 'RecordVerb',
    RecordingStartTime: new Date().toUTCString(),
  });
  const voicemailMs = (await voicemailShown.at()) - sent;
  assert.equal(await alice.page.locator('#calls-unseen').textContent(), '1', 'one call: still one unseen');
  assert.match(await alice.page.locator('#calls-newest').textContent(), new RegExp(`^Newest: Voicemail from \\${CALLER} to Sales`));

  // 3. Alice's other device: it shows the same, and she marks her calls seen there.
  const other = await userPage('alice@example.com');
  await other.page.locator('#calls-unseen:not([hidden])').waitFor();
  assert.equal(await other.page.locator('#calls-unseen').textContent(), '1');
  const badgeCleared = await when(alice.page, '#calls-unseen[hidden]');
  sent = Date.now();
  await other.page.getByRole('button', { name: 'Mark all as seen' }).click();
  const seenMs = (await badgeCleared.at()) - sent;
  assert.equal(await row(alice.page, first).getAttribute('data-seen'), 'true');
  assert.equal((await calls('alice@example.com')).unseenMissed, 0);
  assert.equal((await calls('bob@example.com')).unseenMissed, 1, 'Bob keeps his own mark');
  await other.context.close();

  // 4. Another missed call; opening the list is viewing it: marked seen here and on the server.
  const second = callSid();
  await dialEnded(await callSales(second), second, 'no-answer');
  await alice.page.locator('#calls-unseen:not([hidden])').waitFor();
  const viewedCleared = await when(alice.page, '#calls-unseen[hidden]');
  sent = Date.now();
  await alice.page.getByText('Show your calls').click();
  const viewedMs = (await viewedCleared.at()) - sent;
  await waitFor('the seen mark on the server', async () => (await calls('alice@example.com')).unseenMissed === 0);
  assert.deepEqual(await alice.page.locator('#call-rows li').evaluateAll((rows) => rows.map((r) => r.dataset.callSid)), [second, first]);

  // 5. The voicemail plays from the bytes Twilio holds.
  await row(alice.page, first).getByRole('button', { name: /Play voicemail/ }).click();
  const audio = row(alice.page, first).locator('audio');
  await audio.waitFor();
  const played = await audio.evaluate(async (element) => {
    if (element.readyState < 1) await new Promise((resolve, reject) => {
      element.addEventListener('loadedmetadata', resolve, { once: true });
      element.addEventListener('error', () => reject(new Error(`audio error ${element.error?.code}`)), { once: true });
    });
    const bytes = new Uint8Array(await (await fetch(element.src)).arrayBuffer());
    return { src: element.src, duration: element.duration, bytes: [...bytes] };
  });
  assert.match(played.src, /^blob:/);
  assert.ok(Buffer.from(played.bytes).equals(MP3), 'the audio element has the recording’s bytes');
  assert.ok(Math.abs(played.duration - MP3_SECONDS) < 0.1, `duration ${played.duration} s, expected about ${MP3_SECONDS.toFixed(2)} s`);
  const [{ request: fetched }] = alice.requests;
  assert.equal(new URL(fetched.url()).pathname, `/phone/voicemail/${recording}`);
  assert.equal(new URL(fetched.url()).search, '', 'no token in the URL');
  assert.match((await fetched.allHeaders()).authorization, /^Bearer /);
  assert.deepEqual(env.fake.problems, [], 'the server fetched it with the API key');

  // 6. Delete it: gone here, at Twilio, and from the API.
  await row(alice.page, first).getByRole('button', { name: 'Delete voicemail' }).click();
  await alice.page.locator(`#call-rows li[data-call-sid="${first}"][data-outcome="missed"]`).waitFor();
  assert.equal(await row(alice.page, first).locator('.call-voicemail').count(), 0);
  assert.deepEqual(env.fake.deletedRecordings, [recording]);
  const gone = await fetch(`${env.server.url}/phone/voicemail/${recording}`, { headers: { Authorization: `Bearer ${await appToken(env.server.url)}` } });
  assert.equal(gone.status, 404);

  // 7. A third call, answered by Alice after 42 s: Bob, the other member of Sales, sees it.
  const third = callSid();
  const rung = await callSales(third);
  const leg = { AccountSid: ACCOUNT_SID, CallSid: callSid(), ParentCallSid: third, From: CALLER, To: `client:${ALICE}` };
  await follow(attribute(rung, 'Client', 'statusCallback'), { ...leg, CallStatus: 'in-progress', CallDuration: '0' });
  await dialEnded(rung, third, 'completed', 42);
  const bob = await userPage('bob@example.com');
  await row(bob.page, third).waitFor({ state: 'attached' });
  assert.equal(await row(bob.page, third).getAttribute('data-outcome'), 'answered');
  assert.match(await row(bob.page, third).locator('.call-meta').textContent(), /Answered by Alice Adams · 0:42/);
  // Who the call was offered to (Alice, the only member online), and how soon she took it.
  assert.match(await row(bob.page, third).locator('.call-ringing').textContent(), /^Rang (Alice Adams|alice@example\.com); Alice Adams answered after \d+ s$/);
  assert.equal(await bob.page.locator('#calls-unseen').textContent(), '2', 'the two calls nobody answered');
  // Bob's first catch-up brings the events of the last seconds, the voicemail's among them:
  // the page read SETTLE_MS later says it is gone.
  const outcomes = () => bob.page.locator('#call-rows li').evaluateAll((rows) => rows.map((r) => r.dataset.outcome).join());
  await waitFor('Bob’s list to settle', async () => (await outcomes()) === 'answered,missed,missed', { timeout: 5000 });

  console.log(
    `calls: missed call visible ${missedMs} ms after the dial-status webhook (badge ${badgeMs} ms), voicemail ${voicemailMs} ms after the recording callback; ` +
      `seen on another device cleared the badge after ${seenMs} ms; opening the list cleared it after ${viewedMs} ms`,
  );
  for (const ms of [missedMs, badgeMs, voicemailMs, seenMs]) assert.ok(ms < 2000, `${ms} ms`);
});
