// Remote sign-out: another browser signs this one out; it reaches signedOut and stays there,
// across TTLs and a reload, until the user signs in again on it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  TTL_SECONDS,
  appToken,
  deviceIds,
  openSettings,
  pageDeviceId,
  presenceState,
  recordRequests,
  serverAndBrowser,
  signIn,
  sleep,
  waitFor,
  waitForState,
} from './harness.mjs';

const env = serverAndBrowser();

test('signed out from another browser: signedOut, and it never comes back on its own', async () => {
  const token = await appToken(env.server.url);
  // Two browsers (contexts do not share storage or locks), the same user.
  const laptop = await env.browser.newContext();
  const desktop = await env.browser.newContext();
  const laptopRequests = recordRequests(laptop);
  const laptopPage = await openSettings(laptop, env.server.url);
  await signIn(laptopPage);
  await waitForState(laptopPage, 'live');
  const desktopPage = await openSettings(desktop, env.server.url);
  await signIn(desktopPage);
  await waitForState(desktopPage, 'live');
  const laptopId = await pageDeviceId(laptopPage);
  const desktopId = await pageDeviceId(desktopPage);
  assert.notEqual(laptopId, desktopId);
  await waitFor('both devices listed', async () => (await deviceIds(env.server.url, token)).length === 2);

  // From the desktop's device list: "Sign out" on the laptop's row.
  const row = desktopPage.locator(`#device-rows tr[data-device-id="${laptopId}"]`);
  await row.waitFor({ timeout: 5000 });
  await row.getByRole('button', { name: /^Sign out/ }).click();

  // The laptop learns it from the realtime channel (device.signedOut), else from its next
  // heartbeat (410 device_signed_out).
  await waitForState(laptopPage, 'signedOut', 2 * TTL_SECONDS * 1000);
  await laptopPage.getByRole('button', { name: 'Sign in again on this browser' }).waitFor();
  const signedOutAt = Date.now();
  await sleep(3 * TTL_SECONDS * 1000);
  assert.equal(await presenceState(laptopPage), 'signedOut');
  assert.deepEqual(
    laptopRequests.filter((r) => r.at > signedOutAt + 200),
    [],
    'no register or heartbeat after signedOut',
  );
  assert.deepEqual(await deviceIds(env.server.url, token), [desktopId]);

  // A reload starts presence automatically, which must not bring the device back.
  await laptopPage.reload();
  await waitForState(laptopPage, 'signedOut');
  await sleep(1000);
  assert.equal(await presenceState(laptopPage), 'signedOut');
  assert.deepEqual(await deviceIds(env.server.url, token), [desktopId]);
  const registersAfterReload = laptopRequests.filter((r) => r.at > signedOutAt && r.path.endsWith('/register-device'));
  assert.deepEqual(registersAfterReload, [], 'the reload did not register');

  // Only the user signing in again on it does.
  await laptopPage.getByRole('button', { name: 'Sign in again on this browser' }).click();
  await waitForState(laptopPage, 'live');
  const signInRegister = laptopRequests.filter((r) => r.path.endsWith('/register-device')).at(-1);
  assert.equal(JSON.parse(signInRegister.body).signIn, true);
  await waitFor('the laptop listed again', async () => (await deviceIds(env.server.url, token)).includes(laptopId));
  await laptop.close();
  await desktop.close();
});
