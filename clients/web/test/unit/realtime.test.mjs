// The realtime channel: opened by the leading tab once live, kept alive, reconnected, replaced
// before the two-hour cap, caught up after every connect, every event handed over once, in
// every tab. Fake clock, server and WebSockets: nothing sleeps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEventOf, STORAGE_KEYS } from '../../src/softphone-presence.ts';
import { browser, cursorAt, errorResponse, settle } from './fakes.mjs';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** A live, leading tab whose realtime channel is connected and caught up. */
async function connectedTab(options = {}, profile = browser({ realtime: true })) {
  const tab = profile.tab(options);
  tab.presence.start();
  await profile.clock.advance(0);
  assert.equal(tab.presence.state, 'live');
  assert.equal(tab.presence.realtimeState, 'connected');
  return { ...profile, profile, tab, socket: profile.server.openSockets().at(-1) };
}

/** The catch-up requests (GET /phone/events with `after`) and the start-cursor ones (without). */
function catchUps(server, tab) {
  return server.of('/phone/events', tab).filter((r) => r.query.has('after'));
}

function starts(server, tab) {
  return server.of('/phone/events', tab).filter((r) => !r.query.has('after'));
}

const cursors = (events) => events.map((e) => e.cursor);

test('once live, the leading tab takes a start cursor, a ticket, opens the WebSocket and catches up', async () => {
  const profile = browser({ realtime: true });
  const { server, clock } = profile;
  let down = true;
  server.intercept = (r) => (down && r.path.endsWith('/register-device') ? errorResponse(503, 'store_unavailable', { 'Retry-After': '5' }) : null);
  const tab = profile.tab();
  tab.presence.start();
  await clock.advance(0);
  assert.equal(tab.presence.state, 'reconnecting');
  assert.equal(server.of('/phone/events').length + server.sockets.length, 0, 'nothing before the device is registered');
  down = false;
  await clock.advance(5 * SECOND);
  assert.equal(tab.presence.state, 'live');

  const paths = server.requests.map((r) => r.path + (r.query.size ? `?${r.query}` : ''));
  const start = cursorAt(clock.now() - 10 * SECOND);
  assert.deepEqual(paths.slice(-4), [
    '/phone/voice/register-device',
    '/phone/events',
    '/phone/events/ticket',
    `/phone/events?after=${start}&limit=100&deviceId=${encodeURIComponent(tab.presence.deviceId)}`,
  ]);
  const [startRequest] = starts(server);
  assert.equal(startRequest.init.method, 'GET');
  assert.equal(startRequest.init.headers.Authorization, 'Bearer app-jwt');
  assert.deepEqual(server.of('/phone/events/ticket')[0].body, { deviceId: tab.presence.deviceId });
  const [socket] = server.sockets;
  assert.equal(socket.url, 'wss://realtime.test/');
  assert.deepEqual(socket.protocols, ['softphone-presence.v1', 'ticket-1']);
  assert.equal(socket.readyState, 1);
  assert.deepEqual(tab.events.realtime.map((r) => r.state), ['connecting', 'connected']);
  assert.equal(tab.presence.realtimeState, 'connected');
});

test('pushed events reach the app as `event` and under their type; unknown types pass through', async () => {
  const { tab, server, socket, clock } = await connectedTab();
  const changed = server.publish('devices.changed', { deviceId: 'ios_1', change: 'registered' });
  const call = server.publish('call.state', { callSid: 'CA1', onCall: true, onCallSince: clock.now() });
  const newer = server.publish('voicemail.received', { voicemailSid: 'VM1' });
  for (const junk of ['not json', '{"type":"pong"}', '{"cursor":"nope","type":"x","at":1,"data":{}}', '[]']) socket.frame(junk);
  await settle();
  assert.deepEqual(tab.events.event, [changed, call, newer]);
  assert.deepEqual(tab.events['devices.changed'], [changed]);
  assert.deepEqual(tab.events['call.state'], [call]);
  assert.ok(isEventOf(tab.events.event[1], 'call.state'));
  assert.ok(!isEventOf(tab.events.event[2], 'call.state'));
  assert.equal(socket.readyState, 1, 'frames it does not know leave the connection open');
  assert.equal(tab.presence.state, 'live');
});

test('a ping every 4 to 5 minutes; without an answer the connection is lost and opened again', async () => {
  const { tab, server, socket, clock } = await connectedTab(); // random() = 0.5: every 4.5 minutes
  const t0 = clock.now();
  const at = (ms) => clock.advance(t0 + ms - clock.now());
  await at(4 * MINUTE);
  assert.deepEqual(socket.sent, [], 'not before 4 minutes');
  await at(5 * MINUTE);
  assert.deepEqual(socket.sent, ['{"type":"ping"}']);
  await at(5 * MINUTE + 15 * SECOND);
  assert.equal(socket.readyState, 1, 'answered by a pong: kept');
  await at(10 * MINUTE);
  assert.equal(socket.sent.length, 2, 'and again');

  server.answerPings = false; // a connection that died without a close
  await at(13.5 * MINUTE);
  assert.equal(socket.sent.length, 3);
  await at(13.5 * MINUTE + 9 * SECOND);
  assert.equal(socket.readyState, 1, 'waits 10 s for the pong');
  await at(13.5 * MINUTE + 10 * SECOND);
  assert.deepEqual(socket.closed, { code: 4000, reason: 'lost', by: 'client' });
  assert.equal(tab.presence.realtimeState, 'connecting');
  await clock.advance(1 * SECOND);
  assert.equal(server.openSockets().length, 1);
  assert.notEqual(server.openSockets()[0], socket);
  assert.equal(tab.presence.realtimeState, 'connected');
  assert.equal(tab.presence.state, 'live', 'presence is not affected');
});

test('a lost connection is opened again with exponential backoff and jitter, each time with a new ticket', async () => {
  const randoms = [0, 0.999999];
  let i = 0;
  // Heartbeat jitter takes random() too: only the channel's draws are checked, by their bounds.
  const { server, socket, clock, tab } = await connectedTab({ random: () => randoms[i++ % 2] });
  server.refuseHandshakes = 4;
  const tickets = server.of('/phone/events/ticket').length;
  const before = server.sockets.length;
  const lostAt = clock.now();
  socket.serverClose(1006);
  assert.equal(tab.presence.realtimeState, 'connecting');
  await clock.advance(60 * SECOND);
  const tries = server.sockets.slice(before);
  assert.equal(tries.length, 5, 'four refused, then open');
  const times = [lostAt, ...tries.map((s) => s.createdAt)];
  const gaps = tries.map((s, n) => s.createdAt - times[n]);
  const limits = [500, 1000, 2000, 4000, 8000];
  for (const [n, low] of limits.entries()) {
    assert.ok(gaps[n] >= low && gaps[n] <= 2 * low, `try ${n + 1} after ${gaps[n]} ms, within [${low}, ${2 * low}]`);
  }
  assert.ok(new Set(gaps.map((g, n) => g / limits[n])).size > 1, `jittered: ${gaps}`);
  assert.equal(server.of('/phone/events/ticket').length - tickets, 5, 'a new ticket for every try');
  assert.equal(tries[4].readyState, 1);
  assert.equal(tab.presence.realtimeState, 'connected');
  assert.ok(catchUps(server).length >= 2, 'caught up after the reconnect');
});

test('a connection that lasted starts the backoff over: the next loss reconnects within a second', async () => {
  const { server, socket, clock } = await connectedTab();
  server.refuseHandshakes = 2;
  socket.serverClose(1006);
  await clock.advance(10 * SECOND);
  const second = server.openSockets()[0];
  await clock.advance(2 * MINUTE); // stable
  second.serverClose(1001, 'idle');
  const lostAt = clock.now();
  await clock.advance(1 * SECOND);
  const third = server.openSockets()[0];
  assert.ok(third && third !== second);
  assert.ok(third.createdAt - lostAt <= 1000, `reconnected after ${third.createdAt - lostAt} ms`);
});

test('the connection is replaced before the two-hour cap: the new one opens, then the old one closes', async () => {
  const { server, socket, clock, tab } = await connectedTab();
  const t0 = clock.now();
  await clock.advance(105 * MINUTE - 1);
  assert.equal(server.sockets.length, 1, 'not before 105 minutes');
  await clock.advance(5 * MINUTE);
  assert.equal(server.sockets.length, 2, 'by 110 minutes');
  const [, fresh] = server.sockets;
  assert.equal(fresh.readyState, 1);
  assert.deepEqual(socket.closed, { code: 1000, reason: 'replaced', by: 'client' });
  assert.ok(fresh.createdAt - t0 <= 110 * MINUTE);
  assert.deepEqual(
    tab.events.realtime.map((r) => r.state),
    ['connecting', 'connected'],
    'connected all along',
  );
  const lastCatchUp = catchUps(server).at(-1);
  assert.ok(lastCatchUp.at >= fresh.createdAt, 'caught up after the new connection opened');
});

test('catch-up after a reconnect: missed events in order, nothing twice, full pages followed', async () => {
  const { tab, server, socket, clock } = await connectedTab();
  const pushed = server.publish('devices.changed', { deviceId: 'ios_1', change: 'registered' });
  await settle();
  assert.deepEqual(tab.events.event, [pushed]);
  socket.serverClose(1006);
  // While it is away: 150 events nobody pushes.
  const missed = [];
  for (let n = 0; n < 150; n += 1) {
    missed.push(server.publish('call.state', { callSid: `CA${n}`, onCall: n % 2 === 0, onCallSince: null }, { push: false }));
  }
  const before = catchUps(server).length;
  await clock.advance(1 * SECOND);
  assert.equal(tab.presence.realtimeState, 'connected');
  const pages = catchUps(server).slice(before);
  // The first page holds the pushed event again (it is newer than the trailing cursor) and 99 more.
  assert.equal(pages.length, 2, 'a full page, then the rest');
  assert.equal(pages[1].query.get('after'), missed[98].cursor, 'the next page starts after the last event');
  assert.deepEqual(cursors(tab.events.event), cursors([pushed, ...missed]), 'each once, in order');

  // The next catch-up returns the last ten seconds again: none is handed over twice.
  server.openSockets()[0].serverClose(1006);
  await clock.advance(2 * SECOND);
  const again = catchUps(server).at(-1);
  assert.ok(again.at > pages[1].at);
  assert.equal(tab.events.event.length, 151);
});

test('an event pushed while a catch-up runs comes after the caught-up ones, once', async () => {
  const { tab, server, socket, clock } = await connectedTab();
  socket.serverClose(1006);
  const missed = server.publish('devices.changed', { deviceId: 'a', change: 'registered' }, { push: false });
  let late;
  server.intercept = (r) => {
    if (!r.query?.has('after')) return null;
    server.intercept = null;
    const answer = server.handle(r); // the catch-up's answer is made…
    late = server.publish('devices.changed', { deviceId: 'b', change: 'registered' }); // …then this is pushed
    return answer;
  };
  await clock.advance(1 * SECOND);
  assert.ok(late);
  assert.deepEqual(cursors(tab.events.event), cursors([missed, late]));
  // And the next catch-up, which returns it too, does not repeat it.
  server.openSockets()[0].serverClose(1006);
  await clock.advance(1 * SECOND);
  assert.deepEqual(cursors(tab.events.event), cursors([missed, late]));
});

test('410 cursor_expired: a resync event, then on from a fresh cursor', async () => {
  const { tab, server, clock } = await connectedTab();
  const initial = catchUps(server)[0].query.get('after');
  server.eventRetentionMs = 30 * MINUTE;
  const old = server.publish('devices.changed', { deviceId: 'a', change: 'registered' });
  await clock.advance(40 * MINUTE); // connected all along: the catch-up cursor is 40 minutes old
  const lost = server.publish('devices.changed', { deviceId: 'b', change: 'registered' }, { push: false });
  await clock.advance(20 * SECOND);
  const recent = server.publish('devices.changed', { deviceId: 'c', change: 'registered' }, { push: false });
  const requests = server.requests.length;
  server.openSockets()[0].serverClose(1006);
  await clock.advance(1 * SECOND);
  const events = server.requests.slice(requests).filter((r) => r.path === '/phone/events');
  const fresh = cursorAt(events[1].at - 10 * SECOND);
  // The catch-up from the old cursor (refused with 410), a fresh cursor, a catch-up from it.
  assert.deepEqual(events.map((r) => r.query.get('after')), [initial, null, fresh]);
  assert.deepEqual(tab.events.resync, [{ reason: 'cursor_expired' }]);
  // Older than the fresh cursor: for the reload to show. Newer: handed over.
  assert.deepEqual(cursors(tab.events.event), cursors([old, recent]));
  assert.ok(!cursors(tab.events.event).includes(lost.cursor));
  assert.equal(tab.presence.realtimeState, 'connected');
  const next = server.publish('devices.changed', { deviceId: 'd', change: 'registered' });
  await settle();
  assert.equal(tab.events.event.at(-1).cursor, next.cursor);
});

test('device.signedOut of this device: signedOut at once, Device destroyed, no automatic register', async () => {
  const { tab, server, clock, storage, Device } = await connectedTab();
  const heartbeats = server.of('/heartbeat').length;
  const [socket] = server.sockets;
  server.signOut(tab.presence.deviceId);
  await settle();
  assert.equal(tab.presence.state, 'signedOut', 'without waiting for a heartbeat');
  assert.equal(server.of('/heartbeat').length, heartbeats);
  assert.equal(tab.events['device.signedOut'].length, 1, 'the app sees the event too');
  assert.equal(Device.instances[0].state, 'destroyed');
  assert.notEqual(storage.getItem(STORAGE_KEYS.signedOut), null);
  assert.equal(socket.closed?.by, 'client');
  assert.equal(tab.presence.realtimeState, 'closed');
  const count = server.requests.length;
  await clock.advance(3600 * SECOND);
  assert.equal(server.requests.length, count, 'no request, no reconnect');
  assert.equal(server.openSockets().length, 0);
});

test('an older sign-out of this device, caught up after the user signed in again, is only an event', async () => {
  const { profile, tab, server, clock } = await connectedTab();
  server.signOut(tab.presence.deviceId);
  await settle();
  assert.equal(tab.presence.state, 'signedOut');
  await clock.advance(2 * SECOND);
  tab.hide(); // a reload: the new page's start cursor is 10 s back, before the sign-out
  const reloaded = profile.tab();
  reloaded.presence.start({ signIn: true });
  await clock.advance(0);
  assert.equal(reloaded.events['device.signedOut'].length, 1, 'caught up');
  assert.equal(reloaded.presence.state, 'live', 'but the sign-in came after it');
  assert.equal(reloaded.presence.realtimeState, 'connected');
});

test("another device's device.signedOut is only an event", async () => {
  const { tab, server } = await connectedTab();
  server.signOut('ios_other');
  await settle();
  assert.deepEqual(tab.events['device.signedOut'].map((e) => e.data), [{ deviceId: 'ios_other' }]);
  assert.deepEqual(tab.events['devices.changed'].map((e) => e.data), [{ deviceId: 'ios_other', change: 'signedOut' }]);
  assert.equal(tab.presence.state, 'live');
  assert.equal(server.openSockets().length, 1);
});

test('a ticket refused with 404 device_not_registered: register again, then connect', async () => {
  const { tab, server, socket, clock, Device } = await connectedTab();
  server.devices.clear(); // expired or evicted on the server: the handshake fails, then the ticket
  const requests = server.requests.length;
  socket.serverClose(1006);
  await clock.advance(1 * SECOND);
  const paths = server.requests.slice(requests).map((r) => r.path.replace('/phone/', ''));
  assert.deepEqual(paths, ['events/ticket', 'voice/register-device', 'events/ticket', 'events']);
  assert.equal(server.requests.at(-4).tab, tab.name);
  assert.equal(server.of('/register-device').at(-1).body.signIn, undefined, 'an automatic register');
  assert.deepEqual(Device.instances[0].tokens, ['twilio-token-1', 'twilio-token-2']);
  assert.equal(server.openSockets().length, 1);
  assert.equal(tab.presence.realtimeState, 'connected');
  assert.equal(tab.presence.state, 'live');
});

test('the other tabs get the same events from the leader, which alone connects; a new leader resumes its cursor', async () => {
  const profile = browser({ realtime: true });
  const { server, clock } = profile;
  const a = profile.tab({ name: 'a' });
  const b = profile.tab({ name: 'b' });
  a.presence.start();
  await clock.advance(0);
  b.presence.start();
  await clock.advance(0);
  assert.equal(b.presence.isLeader, false);
  assert.equal(b.presence.realtimeState, 'connected', "mirrors the leader's channel");
  const first = server.publish('devices.changed', { deviceId: 'ios_1', change: 'registered' });
  const second = server.publish('call.state', { callSid: 'CA1', onCall: true, onCallSince: clock.now() });
  await settle();
  assert.deepEqual(b.events.event, [first, second]);
  assert.deepEqual(b.events['call.state'], [second]);
  assert.deepEqual(b.events.event, a.events.event);
  assert.equal(server.requests.filter((r) => r.tab === 'b').length, 0, 'the follower sends nothing');
  assert.equal(server.sockets.length, 1, 'one connection for the browser');

  // The leader closes; what happens before the next one connects is caught up from where the
  // leader was, and what the follower had already got is not handed over again.
  a.hide();
  const meanwhile = server.publish('devices.changed', { deviceId: 'ios_2', change: 'registered' });
  await clock.advance(0);
  assert.equal(b.presence.isLeader, true);
  assert.equal(b.presence.realtimeState, 'connected');
  assert.equal(starts(server, 'b').length, 0, 'no fresh start cursor: the relayed one');
  assert.deepEqual(cursors(b.events.event), cursors([first, second, meanwhile]));
  assert.equal(server.openSockets().length, 1);

  // A resync in the leader reaches the others too.
  const c = profile.tab({ name: 'c' });
  c.presence.start();
  await clock.advance(0);
  server.eventRetentionMs = 20 * MINUTE;
  await clock.advance(25 * MINUTE);
  server.openSockets()[0].serverClose(1006);
  await clock.advance(1 * SECOND);
  assert.deepEqual(b.events.resync, [{ reason: 'cursor_expired' }]);
  assert.deepEqual(c.events.resync, [{ reason: 'cursor_expired' }]);
});

test('stop(), signOut() and pagehide close the channel; without a WebSocket there is none', async () => {
  const { tab, server, clock } = await connectedTab();
  await tab.presence.stop();
  assert.equal(server.openSockets().length, 0);
  assert.equal(tab.presence.realtimeState, 'closed');
  tab.presence.start();
  await clock.advance(0);
  assert.equal(server.openSockets().length, 1);
  assert.equal(starts(server).length, 1, 'the cursor is kept across a stop');
  tab.hide();
  await settle();
  assert.equal(server.openSockets().length, 0);

  const plain = browser();
  const other = plain.tab();
  other.presence.start();
  await plain.clock.advance(0);
  assert.equal(other.presence.state, 'live');
  assert.equal(other.presence.realtimeState, 'closed');
  assert.equal(plain.server.of('/phone/events').length, 0);
});

test('a watched team is subscribed on the open connection and again on every new one; its changes reach every tab', async () => {
  const { tab, profile, socket, server, clock } = await connectedTab();
  const follower = profile.tab();
  follower.presence.start();
  await clock.advance(0);
  const seen = { leader: [], follower: [] };
  tab.presence.on('teamPresence', (p) => seen.leader.push(p.email));
  follower.presence.on('teamPresence', (p) => seen.follower.push(p.email));
  follower.presence.watchTeam('grp-sales');
  await settle();
  const subscribed = (ws) => ws.sent.map((s) => JSON.parse(s)).filter((f) => f.type === 'subscribe').map((f) => f.team);
  assert.deepEqual(subscribed(socket), ['grp-sales'], "the follower's team, by the leader");
  const alice = { email: 'alice@example.com', name: 'Alice', identity: 'a', status: 'dnd', until: null, note: null, effective: 'dnd', onCall: false, onCallSince: null, lastSeen: null, devices: { online: 1, push: 0 } };
  socket.frame(JSON.stringify({ type: 'team.presence', data: alice }));
  socket.frame(JSON.stringify({ type: 'team.presence', data: { not: 'a presence' } }));
  await settle();
  assert.deepEqual(seen, { leader: ['alice@example.com'], follower: ['alice@example.com'] });
  assert.equal(tab.events.event.length, 0, 'state, not an event of the log');

  socket.serverClose(1001, 'going away');
  await clock.advance(5 * SECOND);
  const next = server.openSockets().at(-1);
  assert.notEqual(next, socket);
  assert.deepEqual(subscribed(next), ['grp-sales'], 'subscribed again on the new connection');
});
