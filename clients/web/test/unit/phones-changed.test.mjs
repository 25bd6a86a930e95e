// phones.changed: an admin changed which numbers ring the user (issue 30). The event carries the
// whole new list, the shape of GET /phone/user-phones's `assignedPhones`, so a page shows it
// without a request; it arrives typed under its own name, in the leading tab and the others,
// and once only, although catch-up returns it again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVENT_TYPES, isEventOf } from '../../src/softphone-presence.ts';
import { browser, settle } from './fakes.mjs';

const SALES = { id: 'phone-sales', phoneNumber: '+14155551234', friendlyName: 'Sales', assignment: 'group', groupId: 'grp-sales', groupName: 'Sales' };
const DIRECT = { id: 'phone-frank', phoneNumber: '+14155550006', friendlyName: 'Frank direct', assignment: 'direct' };

test('phones.changed is a known type, typed under its own name in every tab, each once', async () => {
  assert.ok(EVENT_TYPES.includes('phones.changed'));
  const profile = browser({ realtime: true });
  const leader = profile.tab();
  leader.presence.start();
  await profile.clock.advance(0);
  const other = profile.tab();
  other.presence.start();
  await profile.clock.advance(0);
  assert.equal(leader.presence.realtimeState, 'connected');

  const joined = profile.server.publish('phones.changed', { assignedPhones: [SALES] });
  const both = profile.server.publish('phones.changed', { assignedPhones: [SALES, DIRECT] });
  await settle();
  // A catch-up after a reconnect returns both again (newer than its trailing cursor): neither is handed over twice.
  const catchUps = () => profile.server.of('/phone/events').filter((r) => r.query.has('after')).length;
  const before = catchUps();
  profile.server.openSockets()[0].serverClose(1006);
  await profile.clock.advance(2_000);
  await settle();
  assert.equal(leader.presence.realtimeState, 'connected');
  assert.ok(catchUps() > before, 'caught up after the reconnect');
  for (const tab of [leader, other]) {
    assert.deepEqual(tab.events['phones.changed'], [joined, both], tab.name);
    assert.deepEqual(
      tab.events.event.filter((e) => isEventOf(e, 'phones.changed')).map((e) => e.data.assignedPhones.map((p) => p.id)),
      [['phone-sales'], ['phone-sales', 'phone-frank']],
    );
  }
});
