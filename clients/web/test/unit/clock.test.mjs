// Every wait and every reading of the time in the library goes through its environment
// (`environment.now`, `setTimeout`, `clearTimeout`): an app or a test that passes its own clock
// controls all of it. fakes.mjs records any use of the real clock or timers made from src/; this
// file runs each part of the library that waits (the register and heartbeat loop with its
// backoff, the realtime channel's pings, reconnects and replacement, the inbox's send retries,
// RecentCalls settling a disputed voicemail, the settings' defaults) and finds none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentCalls, SETTLE_MS, SoftphonePresence } from '../../src/softphone-presence.ts';
import { browser, errorResponse, realTimeUses, settle } from './fakes.mjs';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const sid = (prefix, n) => `${prefix}${String(n).padStart(32, '0')}`;

test('the lifecycle, the realtime channel, the inbox and RecentCalls wait only on the injected clock', async () => {
  realTimeUses.length = 0;
  const { clock, server, tab } = await (async () => {
    const profile = browser({ realtime: true });
    const tab = profile.tab();
    tab.presence.start();
    await profile.clock.advance(0);
    return { ...profile, tab };
  })();
  assert.equal(tab.presence.state, 'live');
  assert.equal(tab.presence.realtimeState, 'connected');

  // Heartbeats, then a 503 ridden out with backoff, and pings of the realtime channel.
  await clock.advance(3 * MINUTE);
  let down = true;
  server.intercept = (request) => (down && request.path === '/phone/voice/heartbeat' ? errorResponse(503, 'store_unavailable') : null);
  await clock.advance(2 * MINUTE);
  assert.equal(tab.presence.state, 'reconnecting');
  down = false;
  await clock.advance(1 * MINUTE);
  assert.equal(tab.presence.state, 'live');

  // A lost connection reconnects after a backoff.
  server.openSockets()[0].serverClose(1006);
  await clock.advance(1 * MINUTE);
  assert.equal(tab.presence.realtimeState, 'connected');

  // A text retried after a 503 with Retry-After.
  server.sms.sendAnswers.push(errorResponse(503, 'twilio_unavailable', { 'Retry-After': '3' }));
  const sent = tab.presence.inbox.send('phone-sales', '+14155550100', 'Are you open today?');
  await clock.advance(3 * SECOND);
  await sent;
  assert.equal(server.of('/phone/sms/send').length, 2);

  // RecentCalls, given no timer of its own: a page and an event disagree about a voicemail, and
  // the page read SETTLE_MS later (on the presence's clock) settles it.
  const recent = new RecentCalls(tab.presence, { email: 'alice@example.com' });
  const call = { callSid: sid('CA', 1), startedAt: clock.now(), from: '+14155550101' };
  const stale = server.calls.voicemailLeft(call, { recordingSid: sid('RE', 1), durationSeconds: 12 }, new Uint8Array([1]), { push: false });
  server.calls.deleteVoicemail(sid('RE', 1));
  await recent.load();
  server.publish('voicemail.received', stale.data);
  await settle();
  assert.equal(recent.calls[0].outcome, 'voicemail', 'until a page settles it');
  await clock.advance(SETTLE_MS);
  assert.deepEqual([recent.calls[0].outcome, recent.calls[0].voicemail], ['missed', null]);

  // Past the two-hour cap the connection is replaced; pagehide ends it all.
  await clock.advance(2 * 60 * MINUTE);
  tab.hide();
  await clock.advance(1 * MINUTE);
  assert.equal(tab.presence.state, 'stopped');

  assert.deepEqual(realTimeUses, [], 'the library used the real clock or a real timer');
});

test('the guard catches the real clock: a presence left on the browser’s timers is recorded', async () => {
  realTimeUses.length = 0;
  const presence = new SoftphonePresence({
    apiBaseUrl: 'https://api.test/',
    getAppToken: async () => 'app-jwt',
    Device: class {},
    environment: { fetch: async () => errorResponse(503, 'store_unavailable'), storage: null, locks: null, BroadcastChannel: null, WebSocket: null, page: null },
  });
  presence.start(); // the first register, scheduled at once on the browser's setTimeout
  await presence.stop();
  const uses = realTimeUses.splice(0);
  assert.ok(uses.some((use) => use.startsWith('setTimeout') && use.includes('/src/environment.ts')), uses.join('\n'));
});
