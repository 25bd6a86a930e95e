// Socket presence in Chromium against the real server (docs/client-contract.md): with its
// realtime channel open a tab sends no heartbeat and stays listed; closing the only tab lists
// the device offline within the grace + 2 s; a channel that goes dead without a close (its
// pings unanswered, no new one possible) is detected and the tab heartbeats again. The
// server's times are scaled down: a 3 s TTL (a heartbeat would be due every 2 s), pings every
// 30 s, a 5 s grace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appToken, deviceIds, pageDeviceId, recordRequests, serverAndBrowser, signIn, sleep, waitFor, waitForRealtime, waitForState, openSettings } from './harness.mjs';

const GRACE_SECONDS = 5;
const env = serverAndBrowser({ env: { SOCKET_KEEPALIVE_SECONDS: '30', SOCKET_GRACE_SECONDS: String(GRACE_SECONDS) } });

async function liveTab() {
  const context = await env.browser.newContext();
  const requests = recordRequests(context);
  const page = await openSettings(context, env.server.url);
  await signIn(page);
  await waitForState(page, 'live');
  await waitForRealtime(page);
  return { context, page, requests, id: await pageDeviceId(page) };
}

test('with its socket open a tab sends no heartbeat for 20 s (ten heartbeat intervals) and stays listed', async () => {
  const token = await appToken(env.server.url);
  const { context, requests, id } = await liveTab();
  // The first heartbeat may already be scheduled when the channel opens; from then on, none.
  await sleep(2500);
  const since = Date.now();
  await sleep(20_000);
  const beats = requests.filter((r) => r.path.endsWith('/heartbeat') && r.at >= since);
  assert.deepEqual(beats, [], 'no heartbeat while the socket holds presence');
  assert.ok((await deviceIds(env.server.url, token)).includes(id), 'listed on its socket alone (the 3 s TTL long past)');
  await context.close();
});

test('closing the only tab lists the device offline within the grace + 2 s', async () => {
  const token = await appToken(env.server.url);
  const { context, page, id } = await liveTab();
  const closed = Date.now();
  await page.close();
  const { elapsed } = await waitFor('the device offline', async () => !(await deviceIds(env.server.url, token)).includes(id), {
    timeout: (GRACE_SECONDS + 2) * 1000,
  });
  console.log(`socket presence: the only tab closed, its device offline ${elapsed} ms later`);
  assert.ok(Date.now() - closed <= (GRACE_SECONDS + 2) * 1000);
  await context.close();
});

test('a channel dead without a close is detected, and the tab heartbeats again', async () => {
  const token = await appToken(env.server.url);
  const { context, page, requests, id } = await liveTab();
  // The server's side goes dead: pings get no pong, and no new connection can be had.
  await context.route('**/phone/events/ticket', (route) => route.abort());
  await page.evaluate(() => {
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
      if (String(data).includes('"ping"')) return undefined;
      return send.call(this, data);
    };
  });
  const since = Date.now();
  // The next ping (within 30 s), 10 s without its pong, then half the grace.
  await page.waitForFunction(() => window.softphone.presence.realtimeState === 'connecting', null, { timeout: 45_000 });
  const lostAt = Date.now();
  const { elapsed } = await waitFor('a heartbeat', () => requests.some((r) => r.path.endsWith('/heartbeat') && r.at >= lostAt), {
    timeout: GRACE_SECONDS * 1000,
  });
  console.log(`socket presence: dead channel noticed ${lostAt - since} ms after it died, first heartbeat ${elapsed} ms later`);
  assert.equal(await page.evaluate(() => window.softphone.presence.state), 'live');
  assert.ok((await deviceIds(env.server.url, token)).includes(id), 'never offline meanwhile');
  await context.close();
});
