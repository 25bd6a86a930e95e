// People presence in the library: a TeamView starts from every page, applies what came while
// they loaded after them, keeps a group's members only, sorts as the server does; and the
// realtime channel hands `team.presence` frames to it, subscribing on every connection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TeamView } from '../../src/softphone-presence.ts';

function person(email, name, effective = 'available') {
  return { email, name, identity: `id-${email}`, status: 'available', until: null, note: null, effective, onCall: false, onCallSince: null, lastSeen: null, devices: { online: 1, push: 0 } };
}

/** A source whose `teamPresence` the test fires, and a team API serving `pages`. */
function fakes(pages) {
  const handlers = [];
  const realtime = [];
  const watched = [];
  const asked = [];
  const source = {
    on: (type, handler) => {
      const list = type === 'teamPresence' ? handlers : realtime;
      list.push(handler);
      return () => list.splice(list.indexOf(handler), 1);
    },
    watchTeam: (team) => watched.push(team),
  };
  let release;
  const gate = new Promise((r) => (release = r));
  const team = {
    page: async (options) => {
      asked.push(options);
      await gate;
      return pages[options.after ?? ''];
    },
  };
  return {
    source,
    team,
    fire: (p) => handlers.forEach((h) => h(p)),
    connected: () => realtime.forEach((h) => h({ state: 'connected' })),
    watched,
    asked,
    release,
    handlers,
  };
}

test('a view reads every page, then applies what came meanwhile, in order', async () => {
  const f = fakes({
    '': { people: [person('b@x.io', 'Bob')], next: 'b@x.io' },
    'b@x.io': { people: [person('a@x.io', 'Alice')], next: null },
  });
  const view = new TeamView(f.team, f.source);
  assert.deepEqual(f.watched, ['org'], 'subscribed before the pages are read');
  const changes = [];
  view.on('change', (people) => changes.push(people.map((p) => `${p.email}:${p.effective}`)));
  const loading = view.load();
  f.fire(person('a@x.io', 'Alice', 'dnd'));
  f.release();
  const people = await loading;
  assert.deepEqual(people.map((p) => p.email), ['a@x.io', 'b@x.io'], 'sorted by name');
  assert.deepEqual(changes.at(-1), ['a@x.io:dnd', 'b@x.io:available'], 'the change that came meanwhile wins');
  assert.deepEqual(f.asked.map((a) => a.after), [undefined, 'b@x.io']);
  f.fire(person('b@x.io', 'Bob', 'onCall'));
  assert.deepEqual(changes.at(-1), ['a@x.io:dnd', 'b@x.io:onCall']);
  view.close();
  assert.equal(f.handlers.length, 0);
});

test('a group view keeps its members only', async () => {
  const f = fakes({ '': { people: [person('a@x.io', 'Alice')], next: null } });
  const view = new TeamView(f.team, f.source, 'grp-sales');
  f.release();
  await view.load();
  assert.deepEqual(f.asked[0].group, 'grp-sales');
  f.fire(person('z@x.io', 'Zed', 'away'));
  assert.deepEqual(view.people.map((p) => p.email), ['a@x.io']);
});

test('a new realtime connection reads the pages again: what changed while none was open is not sent again', async () => {
  let version = 'available';
  const f = fakes({});
  f.team.page = async () => ({ people: [person('a@x.io', 'Alice', version)], next: null });
  const view = new TeamView(f.team, f.source);
  f.connected();
  await view.load();
  assert.equal(view.people[0].effective, 'available');
  version = 'dnd';
  f.connected();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(view.people[0].effective, 'dnd');
});
