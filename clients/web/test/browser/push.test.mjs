// A phone whose app sleeps: once its foreground TTL has passed it stays listed, reachable by push,
// and the settings page says so with how long ago the app was last opened.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appToken, openSettings, post, serverAndBrowser, signIn, sleep, waitForState } from './harness.mjs';

// Phones are online for one second after they were heard from, then reachable by push (7 days).
const env = serverAndBrowser({ ttlSeconds: 30, env: { PRESENCE_TTL_SECONDS_MOBILE: '1' } });

test('a phone asleep is listed as reachable by push, last opened some time ago', async () => {
  const context = await env.browser.newContext();
  const page = await openSettings(context, env.server.url);
  await signIn(page, 'carol@example.com');
  await waitForState(page, 'live');
  const token = await appToken(env.server.url, 'carol@example.com');
  const phone = { deviceId: 'android_pixel', platform: 'android', label: 'Pixel', twilioState: 'registered' };
  await post(env.server.url, '/phone/voice/register-device', phone, token);
  const row = page.locator('#device-rows tr[data-device-id="android_pixel"]');
  await row.getByText('Android').waitFor({ timeout: 5000 });
  assert.equal(await row.getAttribute('data-reachability'), 'online');
  assert.doesNotMatch(await row.innerText(), /push/);

  // Passing from online to push is no event: the list shows it when it next loads.
  await sleep(2100);
  await page.reload();
  await row.getByText(/^Reachable by push, last opened (this minute|\d+ minutes? ago)$/).waitFor({ timeout: 5000 });
  assert.equal(await row.getAttribute('data-reachability'), 'push');
  await context.close();
});
