import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SoftphonePresence, STORAGE_KEYS, TRANSITIONS, labelFromUserAgent } from '../../src/softphone-presence.ts';
import { browser, errorResponse, settle } from './fakes.mjs';

const SECOND = 1000;

/**
 * A started, live tab in a fresh browser profile, after its first heartbeat: the one that
 * reports, a second after register, that the new Device is registering with Twilio.
 */
async function liveTab(options = {}, profile = browser()) {
  const tab = profile.tab(options);
  tab.presence.start();
  await profile.clock.advance(0);
  assert.equal(tab.presence.state, 'live');
  assert.equal(await profile.clock.fireNext(), 1 * SECOND);
  assert.equal(profile.server.of('/heartbeat').at(-1).body.twilioState, 'registering');
  return { ...profile, profile, tab };
}

test('the device id is created once, web_ + a UUID, and kept in localStorage for every tab', () => {
  const profile = browser();
  const first = profile.tab().presence;
  assert.match(first.deviceId, /^web_[0-9a-f-]{36}$/);
  assert.equal(profile.storage.getItem(STORAGE_KEYS.deviceId), first.deviceId);
  assert.equal(profile.tab().presence.deviceId, first.deviceId);
  profile.storage.setItem(STORAGE_KEYS.deviceId, 'not valid!');
  const replaced = profile.tab().presence.deviceId;
  assert.notEqual(replaced, 'not valid!');
  assert.equal(profile.storage.getItem(STORAGE_KEYS.deviceId), replaced);
});

test('start registers, creates the Twilio Device with the token, registers it and goes live', async () => {
  const { tab, server, Device } = await liveTab({ capabilities: ['voice', 'sms'] });
  const [register] = server.of('/register-device');
  assert.deepEqual(register.body, {
    deviceId: tab.presence.deviceId,
    platform: 'web',
    label: 'Test browser',
    capabilities: ['voice', 'sms'],
  });
  assert.equal(register.token, 'app-jwt');
  assert.equal(register.init.headers['Content-Type'], 'application/json');
  assert.deepEqual(tab.stateNames, ['starting', 'live']);
  assert.equal(tab.states.at(-1).leader, true);
  assert.equal(tab.events.registered.length, 1);
  assert.equal(Device.instances.length, 1);
  const [device] = Device.instances;
  assert.equal(device.token, 'twilio-token-1');
  assert.equal(device.registerCalls, 1);
  assert.equal(tab.events.device[0], device);
  assert.equal(tab.presence.device, device);
});

test('the Twilio state is reported with the heartbeats, soon after it changes, and only when it changed', async () => {
  const { tab, server, clock, Device } = await liveTab();
  assert.equal(tab.presence.twilioStatus.state, 'registering');
  assert.equal(server.of('/heartbeat').length, 1, 'the new Device was reported a second after register');
  Device.instances[0].setState('registered');
  assert.deepEqual(tab.events.twilio.at(-1), { state: 'registered' });
  await clock.advance(1 * SECOND);
  assert.equal(server.of('/heartbeat').length, 2, 'a changed state is reported within a second');
  assert.equal(server.of('/heartbeat')[1].body.twilioState, 'registered');
  assert.equal(server.devices.get(tab.presence.deviceId).twilioState, 'registered');
  // An unchanged state is not sent again (each report costs the server a transaction).
  await clock.fireNext();
  assert.equal(server.of('/heartbeat').length, 3);
  assert.equal(server.of('/heartbeat')[2].body.twilioState, undefined);
  assert.equal(server.devices.get(tab.presence.deviceId).twilioState, 'registered');
});

test('heartbeats follow presence.heartbeatIntervalSeconds with ±10 % jitter, read from each response', async () => {
  const randoms = [0, 0.999999, 0.25, 0.5];
  let i = 0;
  const { tab, server, clock } = await liveTab({ random: () => randoms[i++ % randoms.length] });
  const delays = [];
  for (let n = 0; n < 4; n += 1) delays.push(await clock.fireNext());
  assert.equal(server.of('/heartbeat').length, 1 + 4);
  for (const delay of delays) {
    assert.ok(delay >= 54 * SECOND && delay <= 66 * SECOND, `${delay} ms is within 60 s ± 10 %`);
  }
  assert.equal(new Set(delays).size, delays.length, 'the delays differ');
  assert.equal(delays[0], 54 * SECOND, 'random() = 0: 10 % early');
  assert.ok(Math.abs(delays[1] - 60 * SECOND * (0.9 + 0.2 * 0.999999)) < 1, 'random() → 1: 10 % late');
  server.heartbeatIntervalSeconds = 20;
  await clock.fireNext();
  const next = clock.nextDelay();
  assert.ok(next >= 18 * SECOND && next <= 22 * SECOND, `the interval of the last response applies: ${next}`);
  assert.equal(tab.presence.state, 'live');
});

test('404 device_not_registered: register again and hand the new token to the same Device', async () => {
  const { tab, server, clock, Device } = await liveTab();
  server.devices.clear(); // evicted, or unregistered by another tab's pagehide
  await clock.fireNext();
  assert.equal(server.of('/heartbeat').length, 2);
  assert.equal(server.of('/register-device').length, 2);
  assert.equal(server.of('/register-device')[1].body.signIn, undefined, 'an automatic register');
  assert.equal(Device.instances.length, 1, 'no second Device');
  assert.deepEqual(Device.instances[0].tokens, ['twilio-token-1', 'twilio-token-2']);
  assert.deepEqual(tab.stateNames, ['starting', 'live', 'reconnecting', 'live']);
  assert.equal(tab.states[2].reason, 'device_not_registered');
  assert.equal(tab.presence.registration.registrationId, 'reg-2');
});

test('tokenWillExpire: register again, then device.updateToken(token)', async () => {
  const { tab, server, clock, Device } = await liveTab();
  Device.instances[0].emit('tokenWillExpire', Device.instances[0]);
  await clock.advance(0);
  assert.equal(server.of('/register-device').length, 2);
  assert.deepEqual(Device.instances[0].tokens, ['twilio-token-1', 'twilio-token-2']);
  assert.equal(Device.instances.length, 1);
  assert.deepEqual(tab.stateNames, ['starting', 'live']);
});

test('a Twilio error saying the access token expired also renews it', async () => {
  const { server, clock, Device } = await liveTab();
  Device.instances[0].emit('error', { code: 20104, message: 'AccessTokenExpired' });
  await clock.advance(0);
  assert.equal(server.of('/register-device').length, 2);
  assert.deepEqual(Device.instances[0].tokens, ['twilio-token-1', 'twilio-token-2']);
});

test('tokenWillExpire during a heartbeat in flight registers right after it', async () => {
  const { server, clock, Device } = await liveTab();
  server.intercept = (request) => {
    if (request.path.endsWith('/heartbeat')) Device.instances[0].emit('tokenWillExpire');
    return null;
  };
  await clock.fireNext();
  await clock.advance(0);
  assert.deepEqual(
    server.requests.map((r) => r.path.split('/').at(-1)),
    ['register-device', 'heartbeat', 'heartbeat', 'register-device'],
  );
  assert.deepEqual(Device.instances[0].tokens, ['twilio-token-1', 'twilio-token-2']);
});

test('401: ask the app for a token again and retry once', async () => {
  const profile = browser();
  profile.server.rejectedTokens.add('stale-jwt');
  const tab = profile.tab({ appTokens: ['stale-jwt', 'fresh-jwt'] });
  tab.presence.start();
  await profile.clock.advance(0);
  assert.deepEqual(profile.server.of('/register-device').map((r) => r.token), ['stale-jwt', 'fresh-jwt']);
  assert.equal(tab.presence.state, 'live');
  assert.equal(tab.events.error.length, 0);
});

test('401 again after the retry: error event, onSignInRequired, stopped, and nothing more', async () => {
  let signInRequired = 0;
  const { tab, server, clock, Device } = await liveTab({ onSignInRequired: () => (signInRequired += 1) });
  server.rejectedTokens.add('app-jwt');
  await clock.fireNext();
  assert.equal(server.of('/heartbeat').length, 3, 'the first heartbeat, then one refused and its retry');
  assert.deepEqual(tab.tokensAsked.slice(-2), ['app-jwt', 'app-jwt (refresh)'], 'the retry asks for a refresh');
  assert.equal(tab.events.error.length, 1);
  assert.equal(tab.events.error[0].code, 'unauthorized');
  assert.equal(tab.events.error[0].status, 401);
  assert.equal(signInRequired, 1);
  assert.equal(tab.presence.state, 'stopped');
  assert.equal(Device.instances[0].state, 'destroyed');
  const before = server.requests.length;
  await clock.advance(3600 * SECOND);
  assert.equal(server.requests.length, before, 'no request after stopping');
});

test('503 with Retry-After: wait exactly that long, reconnecting, then live again', async () => {
  const { tab, server, clock, Device } = await liveTab();
  let outage = 2;
  server.intercept = (request) =>
    request.path.endsWith('/heartbeat') && outage-- > 0
      ? errorResponse(503, 'store_unavailable', { 'Retry-After': '7' })
      : null;
  await clock.fireNext();
  assert.equal(tab.presence.state, 'reconnecting');
  assert.equal(tab.states.at(-1).reason, 'store_unavailable');
  assert.equal(clock.nextDelay(), 7 * SECOND);
  await clock.fireNext();
  assert.equal(clock.nextDelay(), 7 * SECOND);
  await clock.fireNext();
  assert.equal(tab.presence.state, 'live');
  assert.deepEqual(tab.stateNames, ['starting', 'live', 'reconnecting', 'live']);
  assert.equal(server.of('/heartbeat').length, 4);
  assert.equal(server.of('/register-device').length, 1, 'still inside the TTL: no register');
  assert.equal(Device.instances.length, 1);
  assert.equal(Device.instances[0].state, 'registering', 'the Device was left alone');
});

test('network errors and 5xx without Retry-After back off exponentially, with jitter, inside the TTL', async () => {
  const { tab, server, clock } = await liveTab({ random: () => 1 - Number.EPSILON });
  server.intercept = () => {
    throw new TypeError('Failed to fetch');
  };
  await clock.fireNext(); // the heartbeat at ~67 s fails; the TTL ends at 91 s
  const delays = [];
  for (let n = 0; n < 6; n += 1) delays.push(Math.round(await clock.fireNext()));
  assert.equal(tab.presence.state, 'reconnecting');
  assert.equal(tab.states.at(-1).reason, 'network');
  assert.deepEqual(delays.slice(0, 4), [1000, 2000, 4000, 8000]);
  // The 5th would be 16 s but only ~9 s of the TTL are left: half of that.
  assert.ok(delays[4] < 8000 && delays[4] >= 500, `capped inside the TTL: ${delays[4]}`);
  server.intercept = () => errorResponse(500, 'internal');
  const after = Math.round(await clock.fireNext());
  assert.ok(after > 0);
});

test('the TTL passed during an outage: the first try after it registers again, same device id', async () => {
  const { tab, server, clock, Device } = await liveTab();
  let down = true;
  server.intercept = () => (down ? errorResponse(503, 'store_unavailable', { 'Retry-After': '20' }) : null);
  await clock.fireNext(); // ~61 s: 503
  await clock.fireNext(); // ~81 s: 503
  assert.equal(server.of('/heartbeat').length, 3);
  down = false;
  await clock.fireNext(); // ~101 s: past the TTL (91 s)
  const last = server.requests.at(-1);
  assert.equal(last.path, '/phone/voice/register-device', 'registers rather than heartbeats');
  assert.equal(last.body.deviceId, tab.presence.deviceId);
  assert.equal(last.body.signIn, undefined);
  assert.equal(tab.presence.state, 'live');
  assert.deepEqual(Device.instances[0].tokens, ['twilio-token-1', 'twilio-token-2']);
  assert.ok(server.devices.has(tab.presence.deviceId));
});

test('a failing first register is retried with backoff, reconnecting, and still registers', async () => {
  const profile = browser();
  let fail = 2;
  profile.server.intercept = () => (fail-- > 0 ? errorResponse(502, 'bad_gateway') : null);
  const tab = profile.tab();
  tab.presence.start();
  await profile.clock.advance(0);
  assert.equal(tab.presence.state, 'reconnecting');
  await profile.clock.fireNext();
  await profile.clock.fireNext();
  assert.deepEqual(tab.stateNames, ['starting', 'reconnecting', 'live']);
  assert.equal(profile.server.of('/register-device').length, 3);
  assert.equal(profile.server.of('/heartbeat').length, 0);
});

test('410 device_signed_out: signedOut, Device destroyed, no request ever again', async () => {
  const { tab, server, clock, storage, Device } = await liveTab();
  server.tombstones.add(tab.presence.deviceId);
  await clock.fireNext();
  assert.equal(tab.presence.state, 'signedOut');
  assert.equal(Device.instances[0].state, 'destroyed');
  assert.notEqual(storage.getItem(STORAGE_KEYS.signedOut), null);
  const count = server.requests.length;
  assert.equal(clock.nextDelay(), undefined, 'no timer left');
  await clock.advance(24 * 3600 * SECOND);
  assert.equal(server.requests.length, count);
  tab.presence.start(); // an automatic start does not bring it back
  await clock.advance(60 * SECOND);
  assert.equal(server.requests.length, count);
  assert.equal(tab.presence.state, 'signedOut');
});

test('a 410 on an automatic register (404 recovery) signs out too', async () => {
  const { tab, server, clock } = await liveTab();
  server.devices.clear();
  server.tombstones.add(tab.presence.deviceId);
  server.intercept = (r) => (r.path.endsWith('/heartbeat') ? errorResponse(404, 'device_not_registered') : null);
  await clock.fireNext();
  assert.deepEqual(tab.stateNames, ['starting', 'live', 'reconnecting', 'signedOut']);
});

test('the signed-out mark survives a reload until start({ signIn: true })', async () => {
  const { profile, tab, server, clock, storage, Device } = await liveTab();
  server.tombstones.add(tab.presence.deviceId);
  await clock.fireNext();
  tab.hide();
  const reloaded = profile.tab();
  const count = server.requests.length;
  reloaded.presence.start();
  await clock.advance(600 * SECOND);
  assert.equal(reloaded.presence.state, 'signedOut');
  assert.equal(server.requests.length, count, 'no request for a signed-out device');
  reloaded.presence.start({ signIn: true });
  await clock.advance(0);
  const register = server.requests.at(-1);
  assert.equal(register.path, '/phone/voice/register-device');
  assert.equal(register.body.signIn, true);
  assert.equal(reloaded.presence.state, 'live');
  assert.equal(storage.getItem(STORAGE_KEYS.signedOut), null);
  assert.equal(Device.instances.at(-1).state, 'registering');
  await clock.fireNext();
  assert.equal(server.requests.at(-1).path, '/phone/voice/heartbeat');
  tab.hide(); // the old tab's handlers do nothing any more
});

test('start({ signIn: true }) on a fresh tab sends signIn once, later registers are automatic', async () => {
  const profile = browser();
  const tab = profile.tab();
  tab.presence.start({ signIn: true });
  await profile.clock.advance(0);
  profile.server.devices.clear();
  await profile.clock.fireNext();
  assert.deepEqual(profile.server.of('/register-device').map((r) => r.body.signIn), [true, undefined]);
});

test('signOut(): unregister with signOut, signedOut here, and no automatic start after it', async () => {
  const { profile, tab, server, clock, Device } = await liveTab();
  await tab.presence.signOut();
  assert.equal(tab.presence.state, 'signedOut');
  assert.deepEqual(server.of('/unregister-device')[0].body, { deviceId: tab.presence.deviceId, signOut: true });
  assert.equal(Device.instances[0].state, 'destroyed');
  assert.equal(server.devices.size, 0);
  tab.hide();
  const next = profile.tab();
  next.presence.start();
  await clock.advance(0);
  assert.equal(next.presence.state, 'signedOut');
});

test('stop(): unregister with the registrationId (a normal request), destroy the Device, stopped', async () => {
  const { tab, server, clock, Device } = await liveTab();
  await tab.presence.stop();
  const [unregister] = server.of('/unregister-device');
  assert.deepEqual(unregister.body, { deviceId: tab.presence.deviceId, registrationId: 'reg-1' });
  assert.equal(unregister.init.keepalive, undefined);
  assert.equal(Device.instances[0].state, 'destroyed');
  assert.equal(tab.presence.state, 'stopped');
  assert.equal(tab.presence.device, null);
  assert.equal(server.devices.size, 0);
  const count = server.requests.length;
  await clock.advance(600 * SECOND);
  assert.equal(server.requests.length, count);
  tab.presence.start();
  await clock.advance(0);
  assert.equal(tab.presence.state, 'live', 'stop is not a sign-out: start works again');
});

test('pagehide: keepalive unregister with Authorization and the registrationId, no await', async () => {
  const { tab, server, clock, Device } = await liveTab();
  server.devices.clear();
  await clock.fireNext(); // 404 → registers again: reg-2
  tab.hide();
  assert.equal(tab.presence.state, 'stopped', 'synchronously');
  await settle();
  const unregister = server.of('/unregister-device').at(-1);
  assert.deepEqual(unregister.body, { deviceId: tab.presence.deviceId, registrationId: 'reg-2' });
  assert.equal(unregister.init.keepalive, true);
  assert.equal(unregister.init.method, 'POST');
  assert.equal(unregister.init.headers.Authorization, 'Bearer app-jwt');
  assert.equal(unregister.init.headers['Content-Type'], 'application/json');
  assert.equal(Device.instances[0].state, 'destroyed');
  assert.equal(clock.nextDelay(), undefined);
});

test('pageshow from the back/forward cache starts again; a plain pageshow does not', async () => {
  const { tab, server, clock } = await liveTab();
  tab.hide(true);
  tab.show(false);
  await clock.advance(0);
  assert.equal(tab.presence.state, 'stopped');
  tab.show(true);
  await clock.advance(0);
  assert.equal(tab.presence.state, 'live');
  assert.equal(server.of('/register-device').length, 2);
  assert.equal(server.of('/register-device')[1].body.signIn, undefined);
});

test('a 400 is a client bug: error event with the code, stopped', async () => {
  const { tab, server, clock } = await liveTab();
  server.intercept = () => errorResponse(400, 'invalid_field');
  await clock.fireNext();
  assert.equal(tab.events.error[0].code, 'invalid_field');
  assert.equal(tab.presence.state, 'stopped');
});

test('evictedDeviceIds are reported as an evicted event', async () => {
  const profile = browser();
  profile.server.intercept = (r) => {
    if (!r.path.endsWith('/register-device')) return null;
    profile.server.intercept = null;
    return profile.server.handle(r).json().then((body) => new Response(
      JSON.stringify({ ...body, evictedDeviceIds: ['web_old'] }),
      { status: 200 },
    ));
  };
  const tab = profile.tab();
  tab.presence.start();
  await profile.clock.advance(0);
  assert.deepEqual(tab.events.evicted, [{ deviceIds: ['web_old'] }]);
});

test('tabs: one leads (Device, heartbeats), the others mirror it and take over when it closes', async () => {
  const profile = browser();
  const { server, clock, Device } = profile;
  const a = profile.tab({ name: 'a' });
  const b = profile.tab({ name: 'b' });
  a.presence.start();
  await clock.advance(0);
  b.presence.start();
  await clock.advance(0);
  assert.equal(a.presence.isLeader, true);
  assert.equal(b.presence.isLeader, false);
  assert.equal(b.presence.state, 'live', 'mirrors the leader');
  assert.equal(b.states.at(-1).leader, false);
  await clock.advance(300 * SECOND);
  assert.equal(server.requests.filter((r) => r.tab === 'b').length, 0, 'the follower sends nothing');
  assert.equal(server.of('/heartbeat', 'a').length, 5);
  assert.equal(Device.instances.length, 1);

  a.hide(); // the leading tab closes: it hands over (no unregister) and releases the lock
  assert.ok(server.devices.has(b.presence.deviceId), 'still registered while nobody leads');
  await clock.advance(0);
  assert.equal(b.presence.isLeader, true);
  assert.equal(b.presence.state, 'live');
  const takeover = server.of('/register-device', 'b');
  assert.equal(takeover.length, 1);
  assert.equal(takeover[0].body.signIn, undefined, 'a takeover is an automatic register');
  assert.equal(Device.instances.length, 2);
  assert.equal(Device.instances[0].state, 'destroyed');
  assert.deepEqual(server.of('/unregister-device'), [], 'handed over: nothing unregistered');
  assert.equal(server.devices.get(b.presence.deviceId).registrationId, 'reg-2');
  await clock.advance(300 * SECOND);
  assert.equal(server.of('/heartbeat', 'a').length, 5);
  assert.ok(server.of('/heartbeat', 'b').length >= 4);
});

/** Two tabs of one profile, a leading and b following, both live. */
async function twoTabs() {
  const profile = browser();
  const a = profile.tab({ name: 'a' });
  const b = profile.tab({ name: 'b' });
  a.presence.start();
  await profile.clock.advance(0);
  b.presence.start();
  await profile.clock.advance(0);
  assert.equal(a.presence.isLeader, true);
  assert.equal(b.presence.state, 'live');
  return { ...profile, profile, a, b };
}

test('hand-over: the device stays registered through it; the last tab to close unregisters', async () => {
  const { server, clock, a, b } = await twoTabs();
  const id = a.presence.deviceId;
  // Whatever runs between a's pagehide and b's register, the device is listed.
  const listed = [];
  const sample = () => listed.push(Boolean(server.live(id)));
  server.intercept = () => (sample(), null);
  a.hide();
  sample();
  await clock.advance(0);
  sample();
  assert.deepEqual(listed, [true, true, true], "after pagehide, when b registers, after it");
  assert.deepEqual(server.of('/unregister-device'), []);
  assert.equal(b.presence.isLeader, true);
  assert.equal(server.of('/register-device', 'b').length, 1);

  b.hide(); // the last tab: unregisters its own registration, keepalive
  await settle();
  const [unregister] = server.of('/unregister-device');
  assert.equal(unregister.tab, 'b');
  assert.deepEqual(unregister.body, { deviceId: id, registrationId: 'reg-2' });
  assert.equal(unregister.init.keepalive, true);
  assert.equal(server.devices.size, 0);
});

test('hand-over: followers that closed or stopped first leave the leader the last tab', async () => {
  const { server, clock, a, b, profile } = await twoTabs();
  const c = profile.tab({ name: 'c' });
  c.presence.start();
  await clock.advance(0);
  b.hide();
  await c.presence.stop();
  await clock.advance(0);
  assert.equal(a.presence.isLeader, true);
  a.hide();
  await settle();
  assert.deepEqual(server.of('/unregister-device').map((r) => [r.tab, r.body.registrationId]), [['a', 'reg-1']]);
  assert.equal(server.devices.size, 0);
});

test('hand-over: a tab that closes before it registered in the leader\'s place unregisters for it', async () => {
  const { server, clock, a, b } = await twoTabs();
  let hold;
  server.intercept = (r) => (r.tab === 'b' && r.path.endsWith('/register-device') ? new Promise((resolve) => (hold = resolve)) : null);
  a.hide();
  await clock.advance(0);
  assert.equal(b.presence.isLeader, true);
  assert.equal(b.presence.state, 'starting', 'its register is in flight');
  b.hide(); // the browser window closes
  await settle();
  const [unregister] = server.of('/unregister-device');
  assert.equal(unregister.tab, 'b');
  assert.deepEqual(unregister.body, { deviceId: a.presence.deviceId, registrationId: 'reg-1' }, "a's registration");
  assert.equal(unregister.token, 'app-jwt', "with the token a handed over");
  assert.equal(unregister.init.keepalive, true);
  hold(new Response('{}', { status: 503 }));
});

test('tabs: a follower that stops or hides leaves the queue; the leader is untouched', async () => {
  const profile = browser();
  const a = profile.tab({ name: 'a' });
  const b = profile.tab({ name: 'b' });
  a.presence.start();
  b.presence.start();
  await profile.clock.advance(0);
  assert.equal(profile.locks.waiting(`softphone-presence:${a.presence.deviceId}`), 1);
  await b.presence.stop();
  await settle();
  assert.equal(profile.locks.waiting(`softphone-presence:${a.presence.deviceId}`), 0);
  assert.equal(profile.server.requests.filter((r) => r.tab === 'b').length, 0, 'a follower unregisters nothing');
  assert.equal(a.presence.state, 'live');
});

test('tabs: signing in from a follower makes the signed-out leader register with signIn', async () => {
  const profile = browser();
  const a = profile.tab({ name: 'a' });
  const b = profile.tab({ name: 'b' });
  a.presence.start();
  b.presence.start();
  await profile.clock.advance(0);
  profile.server.tombstones.add(a.presence.deviceId);
  await profile.clock.fireNext();
  assert.equal(a.presence.state, 'signedOut');
  assert.equal(b.presence.state, 'signedOut');
  b.presence.start({ signIn: true });
  await profile.clock.advance(0);
  const register = profile.server.of('/register-device').at(-1);
  assert.equal(register.tab, 'a');
  assert.equal(register.body.signIn, true);
  assert.equal(a.presence.state, 'live');
  assert.equal(b.presence.state, 'live');
});

test('tabs: signOut() from a follower signs the leader out at once', async () => {
  const profile = browser();
  const a = profile.tab({ name: 'a' });
  const b = profile.tab({ name: 'b' });
  a.presence.start();
  b.presence.start();
  await profile.clock.advance(0);
  await b.presence.signOut();
  await settle();
  assert.equal(a.presence.state, 'signedOut');
  assert.equal(profile.Device.instances[0].state, 'destroyed');
  a.hide(); // b takes the lock and finds the device signed out: no request
  const count = profile.server.requests.length;
  await profile.clock.advance(120 * SECOND);
  assert.equal(b.presence.isLeader, true);
  assert.equal(b.presence.state, 'signedOut');
  assert.equal(profile.server.requests.length, count);
});

test('without Web Locks every tab runs on its own', async () => {
  const profile = browser({ locks: false });
  const tab = profile.tab();
  tab.presence.start();
  await profile.clock.advance(0);
  assert.equal(tab.presence.isLeader, true);
  assert.equal(tab.presence.state, 'live');
});

test('getAppToken rejecting stops presence with an app_token error', async () => {
  const profile = browser();
  const tab = profile.tab({ getAppToken: () => Promise.reject(new Error('signed out of the app')) });
  tab.presence.start();
  await profile.clock.advance(0);
  assert.equal(tab.events.error[0].code, 'app_token');
  assert.equal(tab.presence.state, 'stopped');
  assert.equal(profile.server.requests.length, 0);
});

test('the state machine: every leader state can stop; signedOut only restarts through sign-in', () => {
  for (const [from, to] of Object.entries(TRANSITIONS)) {
    if (from !== 'stopped') assert.ok(to.includes('stopped'), `${from} → stopped`);
  }
  assert.deepEqual(TRANSITIONS.signedOut, ['starting', 'stopped']);
  assert.deepEqual(Object.keys(TRANSITIONS).sort(), ['live', 'reconnecting', 'signedOut', 'starting', 'stopped']);
});

test('default label from the user agent', () => {
  const chromeMac =
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
  assert.equal(labelFromUserAgent(chromeMac), 'Chrome on macOS');
  assert.equal(labelFromUserAgent('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'), 'Firefox on Linux');
  assert.equal(labelFromUserAgent(''), 'Web browser');
  const p = new SoftphonePresence({
    apiBaseUrl: 'http://x',
    getAppToken: async () => 't',
    environment: { storage: null, page: null, locks: null, BroadcastChannel: null, userAgent: chromeMac },
  });
  assert.match(p.deviceId, /^web_/);
});

test('Retry-After as an HTTP date is honoured too', async () => {
  const { tab, server, clock } = await liveTab();
  const when = new Date(clock.now() + 65 * SECOND + 60 * SECOND).toUTCString();
  let once = true;
  server.intercept = () => (once ? ((once = false), errorResponse(429, 'too_many_requests', { 'Retry-After': when })) : null);
  await clock.fireNext(); // the heartbeat at ~60 s gets 429
  assert.equal(tab.presence.state, 'reconnecting');
  const wait = clock.nextDelay();
  assert.ok(wait > 60 * SECOND && wait <= 66 * SECOND, `waits until the date: ${wait}`);
});
