// The settings page with the real Twilio Voice SDK, which cannot reach Twilio from here: the
// page says so, presence still works, calls can be simulated, and the page is usable by keyboard.
// SETTINGS_SCREENSHOT=path saves a screenshot of it (docs/settings-page.png).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appToken, deviceIds, livePage, openSettings, pageDeviceId, post, serverAndBrowser, waitFor, waitForState } from './harness.mjs';

const env = serverAndBrowser({ ttlSeconds: 30 });

test('real Voice SDK without Twilio: "Twilio unreachable", presence live, calls simulated', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1100, height: 1000 } });
  const page = await openSettings(context, env.server.url, { device: null });

  // Sign in with the keyboard only.
  const select = page.getByLabel('User');
  await select.waitFor();
  await select.focus();
  const alice = await select.locator('option', { hasText: 'alice@example.com' }).first().getAttribute('value');
  await select.selectOption(alice);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'sign-in-admin', 'then "Sign in as an admin"');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.textContent);
  assert.equal(focused, 'Sign in', 'the sign-in button follows the user field and the admin box');
  await page.keyboard.press('Enter');

  await waitForState(page, 'live', 10_000);
  const notice = page.getByText('Twilio unreachable — calls cannot ring this browser, presence still works');
  await notice.waitFor({ timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.softphone.presence.state), 'live', 'presence is unaffected');
  const id = await pageDeviceId(page);
  const token = await appToken(env.server.url);
  assert.ok((await deviceIds(env.server.url, token)).includes(id));
  await page.locator(`#device-rows tr[data-device-id="${id}"]`).getByText('this device').waitFor();

  // The user's phone, registered through the API, shows up in the list (its devices.changed event).
  await post(env.server.url, '/phone/voice/register-device', { deviceId: 'ios_demo_phone', platform: 'ios', label: 'iPhone' }, token);
  const phoneRow = page.locator('#device-rows tr[data-device-id="ios_demo_phone"]');
  await phoneRow.getByText('iOS').waitFor({ timeout: 5000 });

  // Every button has a name a screen reader can say.
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('button')]
      .filter((b) => b.offsetParent !== null)
      .filter((b) => !(b.getAttribute('aria-label') || b.textContent?.trim())).length,
  );
  assert.equal(unnamed, 0);

  // A simulated call to the Sales group rings alice, who is live.
  const button = page.getByRole('button', { name: /^Simulate an incoming call to Sales/ });
  await button.focus();
  await page.keyboard.press('Enter');
  const result = page.locator('#call-result');
  await result.getByText('u_org_5Fdemo__alice_40example_2Ecom (you)').waitFor({ timeout: 5000 });
  assert.match(await result.innerText(), /A call to Sales \(\+14155551234\) would ring/);
  assert.equal(
    await result.locator('.call-policy').textContent(),
    'Open at all hours. Sales rings its members all at once, for at most 25 s in all.',
  );

  if (process.env.SETTINGS_SCREENSHOT) {
    await page.screenshot({ path: process.env.SETTINGS_SCREENSHOT, fullPage: true });
  }

  // Signing the phone out from here removes it (and keeps it out until it signs in again).
  await phoneRow.getByRole('button', { name: 'Sign out iPhone' }).click();
  await phoneRow.waitFor({ state: 'detached', timeout: 5000 });
  assert.deepEqual(await deviceIds(env.server.url, token), [id]);
  await context.close();
});

test('?device=fake-offline shows the same notice through the fake Device', async () => {
  const context = await env.browser.newContext();
  const page = await openSettings(context, env.server.url, { device: 'fake-offline' });
  const select = page.getByLabel('User');
  await select.waitFor();
  await select.selectOption(await select.locator('option', { hasText: 'bob@example.com' }).first().getAttribute('value'));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await waitForState(page, 'live');
  await page.getByText('Twilio unreachable — calls cannot ring this browser').waitFor({ timeout: 5000 });
  await waitFor('Twilio state reported as unregistered', () =>
    page.evaluate(() => window.softphone.presence.twilioStatus.state === 'unregistered'),
  );
  await context.close();
});

test('a simulated call shows the number’s policy and every step: Support rings Carol, then Bob', async () => {
  const carol = await appToken(env.server.url, 'carol@example.com');
  await post(env.server.url, '/phone/voice/register-device', { deviceId: 'carol_desk', platform: 'web', capabilities: ['voice'] }, carol);
  const bob = await livePage(env, 'bob@example.com', { section: 'phones' });
  await bob.page.getByRole('button', { name: /^Simulate an incoming call to Support/ }).click();
  const result = bob.page.locator('#call-result');
  await result.locator('.call-policy').waitFor({ timeout: 5000 });
  assert.equal(
    await result.locator('.call-policy').textContent(),
    'Open at all hours. Support rings its members one after another, in the listed order, 10 s each, for at most 20 s in all.',
  );
  const steps = await result.getByRole('list', { name: 'Steps of ringing if nobody answers' }).locator('li').allTextContents();
  assert.deepEqual(steps, ['u_org_5Fdemo__carol_40example_2Ecom for 10 s', 'u_org_5Fdemo__bob_40example_2Ecom (you) for 10 s']);
  await bob.context.close();
});
