// The realtime channel in Chromium against the real server: a remote sign-out reaches the
// signed-out browser at once (not at its next heartbeat), and the settings page shows the
// user's devices and call state as they change, with no polling.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ACCOUNT_SID,
  appToken,
  openSettings,
  pageDeviceId,
  post,
  presenceState,
  recordRequests,
  serverAndBrowser,
  signIn,
  sleep,
  waitForRealtime,
  waitForState,
  webhook,
} from './harness.mjs';

// A 300 s TTL: a heartbeat every 200 s, so nothing seen here can come from one.
const env = serverAndBrowser({ ttlSeconds: 300 });

test('signed out from another device: the browser shows it within 2 s, through the realtime channel', async () => {
  const token = await appToken(env.server.url);
  const context = await env.browser.newContext();
  const requests = recordRequests(context);
  const page = await openSettings(context, env.server.url);
  await signIn(page);
  await waitForState(page, 'live');
  await waitForRealtime(page);
  await page.evaluate(() => {
    window.softphone.presence.on('state', ({ state }) => {
      if (state === 'signedOut') window.signedOutAt = Date.now();
    });
  });
  const id = await pageDeviceId(page);

  // What the "Sign out" button of the user's other device sends.
  const sent = Date.now();
  await post(env.server.url, '/phone/voice/unregister-device', { deviceId: id, signOut: true }, token);
  await waitForState(page, 'signedOut', 2000);
  const elapsed = (await page.evaluate(() => window.signedOutAt)) - sent;
  console.log(`realtime: remote sign-out shown ${elapsed} ms after the request was sent`);
  assert.ok(elapsed < 2000, `${elapsed} ms`);
  await page.getByRole('button', { name: 'Sign in again on this browser' }).waitFor({ timeout: 1000 });
  assert.deepEqual(
    requests.filter((r) => r.at >= sent),
    [],
    'no heartbeat told it, and nothing registers it again',
  );
  assert.equal(await page.evaluate(() => window.softphone.presence.realtimeState), 'closed');
  await sleep(500);
  assert.equal(await presenceState(page), 'signedOut');
  await context.close();
});

test('the settings page: devices and the call state change live, and nothing polls', async () => {
  const email = 'bob@example.com';
  const token = await appToken(env.server.url, email);
  const context = await env.browser.newContext();
  const page = await openSettings(context, env.server.url);
  // Every GET of the device list, and every event of the library that asks for one.
  const lists = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/phone/voice/devices') lists.push(Date.now());
  });
  await page.evaluate(() => {
    window.triggers = [];
    const presence = window.softphone.presence;
    for (const type of ['devices.changed', 'resync', 'registered']) presence.on(type, () => window.triggers.push(type));
    presence.on('state', ({ state }) => {
      if (state === 'live' || state === 'signedOut') window.triggers.push(state);
    });
  });
  await signIn(page, email);
  await waitForState(page, 'live');
  await waitForRealtime(page);
  const id = await pageDeviceId(page);
  // Listed, with the Twilio state the (fake) Device reached a moment after registering: that
  // change was an event too, and the list was fetched again for it.
  await page.locator(`#device-rows tr[data-device-id="${id}"]`).getByText('registered').waitFor();

  // Quiet: longer than the page's old 3 s polling, and not a single request.
  await sleep(500);
  const quietFrom = Date.now();
  await sleep(3500);
  assert.deepEqual(lists.filter((at) => at >= quietFrom), [], 'no GET /phone/voice/devices while nothing changes');

  // The user's phone registers: its row appears, from the devices.changed event.
  const registered = Date.now();
  await post(env.server.url, '/phone/voice/register-device', { deviceId: 'ios_bob_phone', platform: 'ios', label: 'Bob’s iPhone' }, token);
  await page.locator('#device-rows tr[data-device-id="ios_bob_phone"]').getByText('iOS').waitFor({ timeout: 2000 });
  const shown = Date.now() - registered;
  console.log(`realtime: a device registered elsewhere listed ${shown} ms later`);
  assert.ok(shown < 2000, `${shown} ms`);
  assert.equal(lists.filter((at) => at >= registered).length, 1, 'one GET, for the event');

  // Calls: two legs of Bob's answered, one ends (still on a call), the other ends.
  const onCall = page.locator('#on-call');
  assert.equal(await onCall.getAttribute('data-on-call'), 'false');
  const path = '/phone/voice/call-status?org=org_demo&identity=u_org_5Fdemo__bob_40example_2Ecom';
  const leg = (sid, status, sequence) =>
    webhook(env.server.url, path, {
      AccountSid: ACCOUNT_SID,
      CallSid: sid,
      CallStatus: status,
      SequenceNumber: String(sequence),
    });
  const first = 'CA00000000000000000000000000000b01';
  const second = 'CA00000000000000000000000000000b02';
  const callsFrom = Date.now();
  await leg(first, 'in-progress', 1);
  await page.locator('#on-call[data-on-call="true"]').waitFor({ timeout: 2000 });
  console.log(`realtime: a call answered shown ${Date.now() - callsFrom} ms after its webhook`);
  assert.match(await onCall.innerText(), /^On a call since /);
  await leg(second, 'in-progress', 1);
  await leg(first, 'completed', 2);
  await page.waitForFunction(() => document.querySelector('#activity-log')?.textContent?.includes('…000b01 ended'));
  assert.equal(await onCall.getAttribute('data-on-call'), 'true', 'the other leg is still answered');
  await leg(second, 'completed', 2);
  await page.locator('#on-call[data-on-call="false"]').waitFor({ timeout: 2000 });
  assert.equal(await onCall.innerText(), 'Not on a call.');
  assert.deepEqual(lists.filter((at) => at >= callsFrom), [], 'the call state came with the events alone');

  // Over the whole test, no GET of the list that no event asked for (the first one: signing in).
  const triggers = await page.evaluate(() => window.triggers);
  assert.ok(lists.length <= 1 + triggers.length, `${lists.length} GETs for ${triggers.length} events: ${triggers}`);
  await context.close();
});
