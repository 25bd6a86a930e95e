// Socket presence (docs/client-contract.md): while the realtime channel is open the leading tab
// sends no heartbeats, its pings (every `presence.socket.keepAliveSeconds`) keep the device
// live and carry a changed Twilio state; when the channel goes down the tab heartbeats within
// the grace until it is back. Fake clock, server and WebSockets: nothing sleeps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browser } from './fakes.mjs';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** A leading tab, live and connected, against a server with socket presence. */
async function socketTab() {
  const profile = browser({ realtime: true });
  profile.server.socket = { keepAliveSeconds: 540, graceSeconds: 20 };
  const tab = profile.tab();
  tab.presence.start();
  await profile.clock.advance(0);
  assert.equal(tab.presence.state, 'live');
  assert.equal(tab.presence.realtimeState, 'connected');
  return { ...profile, tab, socket: profile.server.openSockets().at(-1) };
}

const pings = (socket) => socket.sent.map((frame) => JSON.parse(frame)).filter((f) => f.type === 'ping');

test('while the channel is open: no heartbeat for an hour, a ping every keepAliveSeconds, and the device stays live', async () => {
  const { server, clock, tab, socket } = await socketTab();
  const beatsBefore = server.of('/heartbeat').length;
  await clock.advance(60 * MINUTE);
  assert.equal(server.of('/heartbeat').length, beatsBefore, 'no heartbeat while the socket holds presence');
  // The Device's first state (it registers with Twilio as the channel opens) goes in a ping at
  // once; then random() = 0.5: every 540 s less 5 %, never later than 540 s.
  const reports = pings(socket).filter((p) => p.twilioState !== undefined);
  assert.deepEqual(reports, [{ type: 'ping', twilioState: 'registering' }]);
  const keepAlives = pings(socket).filter((p) => p.twilioState === undefined);
  assert.equal(keepAlives.length, Math.floor((60 * MINUTE) / (540 * SECOND * 0.95)));
  assert.ok(server.live(tab.presence.deviceId), 'live on its pings alone');
  assert.equal(server.of('/register-device').length, 1, 'and not registered again');
});

test('a server without socket presence: heartbeats go on beside the channel, pings every 4 to 5 minutes', async () => {
  const profile = browser({ realtime: true });
  const tab = profile.tab();
  tab.presence.start();
  await profile.clock.advance(0);
  const socket = profile.server.openSockets().at(-1);
  await profile.clock.advance(10 * MINUTE);
  assert.ok(profile.server.of('/heartbeat').length >= 9);
  assert.equal(pings(socket).length, 2);
});

test('the channel down: a heartbeat within the grace while it stays down, none once it is back', async () => {
  const { server, clock, tab, socket } = await socketTab();
  await clock.advance(30 * MINUTE);
  const beats = server.of('/heartbeat').length;
  server.holdHandshakes = true; // reconnecting takes a while
  socket.serverClose();
  await clock.advance(9 * SECOND);
  assert.equal(server.of('/heartbeat').length, beats, 'not at once: a quick reconnect needs none');
  await clock.advance(1 * SECOND);
  assert.equal(server.of('/heartbeat').length, beats + 1, 'half the grace later');
  assert.equal(server.of('/register-device').length, 1, 'found live (its grace): no register');
  await clock.advance(2 * MINUTE);
  assert.ok(server.of('/heartbeat').length >= beats + 3, 'heartbeating while the channel is down');
  assert.equal(tab.presence.state, 'live');

  server.holdHandshakes = false;
  await clock.advance(30 * SECOND);
  assert.equal(tab.presence.realtimeState, 'connected');
  const resumed = server.of('/heartbeat').length;
  await clock.advance(30 * MINUTE);
  assert.equal(server.of('/heartbeat').length, resumed, 'back on the socket: heartbeats stop');
  assert.ok(server.live(tab.presence.deviceId));
});

test('a quick reconnect sends no heartbeat at all', async () => {
  const { server, clock, socket } = await socketTab();
  await clock.advance(5 * MINUTE);
  const beats = server.of('/heartbeat').length;
  socket.serverClose();
  await clock.advance(5 * MINUTE);
  assert.equal(server.openSockets().length, 1, 'reconnected');
  assert.equal(server.of('/heartbeat').length, beats);
});

test('a pong saying the device is no longer live makes the tab register again', async () => {
  const { server, clock, tab } = await socketTab();
  await clock.advance(5 * MINUTE);
  server.devices.delete(tab.presence.deviceId); // unregistered from elsewhere
  await clock.advance(5 * MINUTE); // the next ping
  assert.equal(server.of('/register-device').length, 2);
  assert.ok(server.live(tab.presence.deviceId));
  assert.equal(tab.presence.state, 'live');
});

test("a changed Twilio state goes out in a ping at once, not in a heartbeat, and only once", async () => {
  const { server, clock, tab, socket, Device } = await socketTab();
  await clock.advance(1 * MINUTE);
  const beats = server.of('/heartbeat').length;
  const before = pings(socket).length;
  Device.instances.at(-1).setState('unregistered');
  await clock.advance(1 * SECOND);
  const sent = pings(socket).slice(before);
  assert.deepEqual(sent, [{ type: 'ping', twilioState: 'unregistered' }]);
  assert.equal(server.devices.get(tab.presence.deviceId).twilioState, 'unregistered');
  assert.equal(server.of('/heartbeat').length, beats);
  await clock.advance(10 * MINUTE);
  assert.ok(pings(socket).slice(before + 1).every((p) => p.twilioState === undefined), 'reported once');
});

test('heartbeats go to the heartbeat URL register names (the function\'s own, in AWS), with the app token', async () => {
  const profile = browser();
  profile.server.heartbeatUrl = 'https://heartbeat.lambda-url.test/phone/voice/heartbeat';
  const tab = profile.tab();
  tab.presence.start();
  await profile.clock.advance(0);
  await profile.clock.advance(3 * MINUTE);
  const beats = profile.server.of('/heartbeat');
  assert.ok(beats.length >= 2);
  assert.ok(beats.every((r) => r.host === 'heartbeat.lambda-url.test' && r.token === 'app-jwt'));
  assert.ok(profile.server.of('/register-device').every((r) => r.host === 'api.test'), 'the rest on the API');
  assert.equal(tab.presence.state, 'live');
});
