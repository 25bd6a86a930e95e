// The service answers 503 for a while: the client backs off as told by Retry-After, shows
// reconnecting, and recovers with the same device.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  appToken,
  deviceIds,
  openSettings,
  pageDeviceId,
  serverAndBrowser,
  signIn,
  waitFor,
  waitForState,
} from './harness.mjs';

const env = serverAndBrowser();

test('503 with Retry-After for 3 s: reconnecting, backs off, then live with the same device', async () => {
  const token = await appToken(env.server.url);
  const context = await env.browser.newContext();
  // Without a realtime channel (no ticket), so that heartbeats carry presence and meet the
  // outage: with an open socket none would be sent (socket-presence.test.mjs).
  await context.route('**/phone/events/ticket', (route) => route.abort());
  const page = await openSettings(context, env.server.url);
  await signIn(page);
  await waitForState(page, 'live');
  const id = await pageDeviceId(page);
  const states = [];
  await page.exposeFunction('recordState', (state) => states.push(state));
  await page.evaluate(() => window.softphone.presence.on('state', ({ state }) => window.recordState(state)));

  // The store is down: heartbeats and registers get 503 store_unavailable, Retry-After: 1.
  const refused = [];
  let outageEnds = Infinity;
  const outage = /\/phone\/voice\/(heartbeat|register-device)$/;
  await context.route(outage, async (route) => {
    if (Date.now() >= outageEnds) return route.continue();
    refused.push(Date.now());
    if (outageEnds === Infinity) outageEnds = Date.now() + 3000;
    await route.fulfill({
      status: 503,
      headers: { 'Retry-After': '1', 'Content-Type': 'application/json' },
      body: JSON.stringify({ error: { code: 'store_unavailable', message: 'The store is unavailable.' } }),
    });
  });

  await waitForState(page, 'reconnecting', 5000);
  await page.locator('#presence-state[data-state="reconnecting"]').waitFor();
  await waitForState(page, 'live', 8000);
  await context.unroute(outage);

  assert.ok(refused.length >= 2, `${refused.length} requests refused`);
  const gaps = refused.slice(1).map((t, i) => t - refused[i]);
  assert.ok(gaps.every((gap) => gap >= 950), `tries at least Retry-After apart: ${gaps.join(', ')} ms`);
  assert.ok(refused.length <= 5, `no hammering: ${refused.length} tries in 3 s`);
  assert.deepEqual(states.slice(0, 1), ['reconnecting']);
  assert.equal(states.at(-1), 'live');
  assert.equal(await pageDeviceId(page), id, 'the same device id');
  await waitFor('the device listed', async () => (await deviceIds(env.server.url, token)).includes(id));
  await context.close();
});
