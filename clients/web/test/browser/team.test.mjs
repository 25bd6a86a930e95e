// People presence on the settings page, in Chromium, through the real local server: Alice sets
// do not disturb and Bob's team list shows it within a second (team.presence over his realtime
// channel, no polling); a call to Alice's direct number then goes to her voicemail without
// ringing her browser; Bob's page shows Alice on a call while she is on one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACCOUNT_SID, callSid, livePage, serverAndBrowser, webhook, when } from './harness.mjs';

const ALICE = 'u_org_5Fdemo__alice_40example_2Ecom';
const ALICE_DIRECT = '+14155550001';

// A 300 s TTL: a heartbeat every 200 s, so nothing seen here can come from one.
const env = serverAndBrowser({ ttlSeconds: 300 });

const aliceRow = (page) => '#team-rows li[data-email="alice@example.com"] .person-state';

test('do not disturb shows on a colleague\'s page within a second, is not rung, and a call shows as on a call', async () => {
  const alice = await livePage(env, 'alice@example.com', { section: 'team' });
  const bob = await livePage(env, 'bob@example.com', { section: 'team' });
  try {
    await bob.page.locator(aliceRow(bob.page), { hasText: 'Available' }).waitFor();

    const shown = await when(bob.page, aliceRow(bob.page), { text: 'Do not disturb' });
    await alice.page.getByLabel('Status', { exact: true }).selectOption('dnd');
    await alice.page.getByLabel('For', { exact: true }).selectOption('off');
    await alice.page.getByLabel('Note', { exact: true }).fill('Focus time');
    const clicked = Date.now();
    await alice.page.getByRole('button', { name: 'Set', exact: true }).click();
    const at = await shown.at(5000);
    assert.ok(at - clicked < 1000, `shown ${at - clicked} ms after the click`);
    await alice.page.locator('#own-status[data-status="dnd"]').waitFor();
    await bob.page.locator('#team-rows li[data-email="alice@example.com"] .person-note', { hasText: 'Focus time' }).waitFor();

    const twiml = await webhook(env.server.url, '/phone/voice/incoming', {
      AccountSid: ACCOUNT_SID,
      CallSid: callSid(),
      CallStatus: 'ringing',
      Direction: 'inbound',
      From: '+14155550142',
      To: ALICE_DIRECT,
    });
    assert.doesNotMatch(twiml, /<Client>|<Identity>/, `Alice's browser is not rung: ${twiml}`);
    assert.match(twiml, /<Record\b/, `her voicemail answers: ${twiml}`);

    // Available again; then on a call (Twilio's call-progress callbacks for her leg).
    await alice.page.getByLabel('Status', { exact: true }).selectOption('available');
    await alice.page.getByRole('button', { name: 'Set', exact: true }).click();
    await bob.page.locator(aliceRow(bob.page), { hasText: 'Available' }).waitFor();
    const sid = callSid();
    const progress = (status, sequence) =>
      webhook(env.server.url, `/phone/voice/call-status?org=org_demo&identity=${ALICE}`, {
        AccountSid: ACCOUNT_SID,
        CallSid: sid,
        CallStatus: status,
        SequenceNumber: String(sequence),
        Timestamp: new Date().toUTCString(),
      });
    await progress('in-progress', 1);
    await bob.page.locator(aliceRow(bob.page), { hasText: 'On a call' }).waitFor({ timeout: 2000 });
    await progress('completed', 2);
    await bob.page.locator(aliceRow(bob.page), { hasText: 'Available' }).waitFor({ timeout: 2000 });
  } finally {
    await alice.context.close();
    await bob.context.close();
  }
});
