// Fakes for every input of SoftphonePresence: clock and timers, the server (with its event log
// and realtime WebSockets), storage, Web Locks, BroadcastChannel, the page's pagehide/pageshow
// and the Twilio Device. Nothing here sleeps, and nothing in the library may read the real clock
// or start a real timer: `realTimeUses` records it, and every test file that imports this one fails.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { SoftphonePresence } from '../../src/softphone-presence.ts';

const SOURCES = new URL('../../src/', import.meta.url).href;

/**
 * Each use of the real clock or timers (`setTimeout`, `setInterval`, `Date.now`, `new Date()`,
 * `performance.now`) made from a file of the library's sources (src/), as "what at file:line":
 * the library must wait and read the time through its injected environment only.
 */
export const realTimeUses = [];

function fromSources(what) {
  const frame = (new Error().stack ?? '').split('\n').find((line) => line.includes(SOURCES));
  if (frame) realTimeUses.push(`${what} ${frame.trim()}`);
}

function watched(what, real) {
  return function (...args) {
    fromSources(what);
    return real.apply(this, args);
  };
}

globalThis.setTimeout = watched('setTimeout', globalThis.setTimeout);
globalThis.setInterval = watched('setInterval', globalThis.setInterval);
Date.now = watched('Date.now', Date.now);
performance.now = watched('performance.now', performance.now.bind(performance));
globalThis.Date = new Proxy(Date, {
  construct(target, args, newTarget) {
    if (args.length === 0) fromSources('new Date()');
    return Reflect.construct(target, args, newTarget);
  },
  apply(target, self, args) {
    fromSources('Date()');
    return Reflect.apply(target, self, args);
  },
});

after(() => assert.deepEqual(realTimeUses, [], 'the library used the real clock or a real timer, not its environment'));

/** Lets every pending promise continuation run (fetch answers, awaits), without advancing time. */
export async function settle() {
  for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock {
  t = Date.UTC(2027, 0, 1);
  timers = new Map();
  nextId = 1;

  now = () => this.t;

  setTimeout = (fn, ms) => {
    const id = this.nextId++;
    this.timers.set(id, { due: this.t + Math.max(0, ms), fn, id });
    return id;
  };

  clearTimeout = (id) => {
    this.timers.delete(id);
  };

  /** Milliseconds until the earliest timer, or undefined. */
  nextDelay() {
    const next = this.earliest();
    return next ? next.due - this.t : undefined;
  }

  earliest() {
    let best;
    for (const timer of this.timers.values()) {
      if (!best || timer.due < best.due || (timer.due === best.due && timer.id < best.id)) best = timer;
    }
    return best;
  }

  /** Move time forward by ms, firing the timers that fall due on the way, in order. */
  async advance(ms) {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > end) break;
      this.timers.delete(next.id);
      this.t = Math.max(this.t, next.due);
      next.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }

  /** Fire the next timer; returns how long it waited. */
  async fireNext() {
    const delay = this.nextDelay();
    if (delay === undefined) throw new Error('no timer pending');
    await this.advance(delay);
    return delay;
  }
}

function json(status, body, headers = {}) {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

function error(status, code, headers) {
  return json(status, { error: { code, message: code } }, headers);
}

const SETTLE_MS = 10_000;

/** A cursor as the service makes them: the time in microseconds (16 hex digits) and 4 more. */
export function cursorAt(ms, tail = 0) {
  return Math.round(ms * 1000).toString(16).padStart(16, '0') + tail.toString(16).padStart(4, '0');
}

function cursorMs(cursor) {
  return parseInt(cursor.slice(0, 16), 16) / 1000;
}

/**
 * The presence API as the contract describes it, in memory: register (signIn, tombstones,
 * registrationId), heartbeat (404 past the TTL, 410 when signed out), unregister; the user's
 * event log (catch-up trailing the newest events by 10 s, 410 cursor_expired past the
 * retention) and realtime tickets. `publish` adds an event and pushes it to the open sockets.
 * `intercept(request)` may answer instead (return a Response, or throw for a network error).
 */
export class FakeServer {
  requests = [];
  devices = new Map();
  tombstones = new Set();
  ttlSeconds = 90;
  heartbeatIntervalSeconds = 60;
  rejectedTokens = new Set();
  intercept = null;
  count = 0;
  /** The user's events, oldest first. */
  log = [];
  lastMicros = 0;
  eventRetentionMs = 7 * 24 * 3600 * 1000;
  /** Every WebSocket ever opened to the server (FakeWebSocket). */
  sockets = [];
  tickets = new Map();
  /** Refuse this many handshakes (401 to the browser: an error, then close 1006). */
  refuseHandshakes = 0;
  /** Leave handshakes unanswered. */
  holdHandshakes = false;
  answerPings = true;
  /** Socket presence, as the server announces it (`{ keepAliveSeconds, graceSeconds }`); `null`: a server without it. */
  socket = null;
  /** `presence.heartbeatUrl`, when the server names one. */
  heartbeatUrl = null;
  /** The SMS inbox's endpoints. */
  sms;
  /** The call history's endpoints. */
  calls;

  constructor(clock) {
    this.clock = clock;
    this.sms = new FakeSms(clock);
    this.calls = new FakeCalls((type, data, options) => this.publish(type, data, options));
  }

  /** A fetch bound to one tab, so requests can be told apart. */
  fetchFor(tab) {
    return async (url, init) => {
      const u = new URL(url);
      const request = {
        tab,
        host: u.host,
        path: u.pathname,
        query: u.searchParams,
        body: init.body ? JSON.parse(init.body) : undefined,
        token: init.headers?.Authorization?.replace(/^Bearer /, ''),
        init,
        at: this.clock.now(),
      };
      this.requests.push(request);
      await Promise.resolve();
      const answer = this.intercept?.(request);
      if (answer) return answer;
      return this.handle(request);
    };
  }

  of(path, tab) {
    return this.requests.filter((r) => r.path.endsWith(path) && (tab === undefined || r.tab === tab));
  }

  /** The device, if it is live now: its heartbeat TTL, or (socket presence) its socket's lease. */
  live(id) {
    const d = this.devices.get(id);
    const nowS = Math.floor(this.clock.now() / 1000);
    return d && (d.expiresAt > nowS || (d.socketUntil ?? 0) > nowS) ? d : undefined;
  }

  /** Socket presence: a connection of `deviceId` opened or pinged (a lease), or closed (the grace). */
  socketAlive(deviceId) {
    const device = this.socket && this.live(deviceId);
    if (!device) return false;
    const { keepAliveSeconds, graceSeconds } = this.socket;
    device.socketUntil = Math.ceil(this.clock.now() / 1000) + keepAliveSeconds + graceSeconds + 60;
    return true;
  }

  socketClosed(deviceId) {
    const device = this.socket && this.devices.get(deviceId);
    if (device) device.socketUntil = Math.ceil(this.clock.now() / 1000) + this.socket.graceSeconds;
  }

  presence() {
    return {
      ttlSeconds: this.ttlSeconds,
      heartbeatIntervalSeconds: this.heartbeatIntervalSeconds,
      ...(this.socket ? { socket: this.socket } : {}),
      ...(this.heartbeatUrl ? { heartbeatUrl: this.heartbeatUrl } : {}),
    };
  }

  /** Add an event to the log; `push: false` leaves it to catch-up (a push that got lost). */
  publish(type, data, { push = true } = {}) {
    const micros = Math.max(this.clock.now() * 1000, this.lastMicros + 1);
    this.lastMicros = micros;
    const event = { cursor: cursorAt(micros / 1000, 1), type, at: this.clock.now(), data };
    this.log.push(event);
    if (push) for (const socket of this.openSockets()) socket.push(event);
    return event;
  }

  openSockets() {
    return this.sockets.filter((s) => s.readyState === 1);
  }

  /** Another device of the user signs `deviceId` out, as POST unregister-device with signOut. */
  signOut(deviceId) {
    this.devices.delete(deviceId);
    this.tombstones.add(deviceId);
    this.publish('device.signedOut', { deviceId });
    this.publish('devices.changed', { deviceId, change: 'signedOut' });
  }

  handle(request) {
    const { path, body, token, query } = request;
    if (this.rejectedTokens.has(token)) return error(401, 'unauthorized');
    if (path.startsWith('/phone/sms/')) return this.sms.handle(request);
    if (path.startsWith('/phone/calls') || path.startsWith('/phone/voicemail/')) return this.calls.handle(request);
    const nowS = Math.floor(this.clock.now() / 1000);
    const live = (id) => this.live(id);
    if (path === '/phone/events') {
      const settled = cursorAt(this.clock.now() - SETTLE_MS);
      const after = query?.get('after') ?? null;
      if (after === null) return json(200, { events: [], cursor: settled });
      if (!/^[0-9a-f]{20}$/.test(after)) return error(400, 'invalid_field');
      if (cursorMs(after) < this.clock.now() - this.eventRetentionMs) return error(410, 'cursor_expired');
      const limit = Number(query.get('limit') ?? 100);
      const events = this.log.filter((e) => e.cursor > after).slice(0, limit);
      const full = events.length === limit;
      const cursor = full ? events.at(-1).cursor : after > settled ? after : settled;
      return json(200, { events, cursor });
    }
    if (path === '/phone/events/ticket') {
      if (!live(body.deviceId)) return error(404, 'device_not_registered');
      const ticket = `ticket-${this.tickets.size + 1}`;
      this.tickets.set(ticket, body.deviceId);
      return json(200, { ticket, url: 'wss://realtime.test/', expiresIn: 60 });
    }
    if (path === '/phone/voice/register-device') {
      if (this.tombstones.has(body.deviceId)) {
        if (!body.signIn) return error(410, 'device_signed_out');
        this.tombstones.delete(body.deviceId);
      }
      this.count += 1;
      const device = {
        deviceId: body.deviceId,
        platform: body.platform,
        label: body.label,
        capabilities: body.capabilities ?? ['voice'],
        lastSeen: this.clock.now(),
        expiresAt: nowS + this.ttlSeconds,
        registrationId: `reg-${this.count}`,
        ...(body.twilioState ? { twilioState: body.twilioState } : {}),
      };
      this.devices.set(body.deviceId, device);
      return json(200, {
        identity: 'u_org_5Fdemo__alice_40example_2Ecom',
        token: `twilio-token-${this.count}`,
        expiresIn: 3600,
        registrationId: device.registrationId,
        assignedPhones: [],
        device,
        presence: this.presence(),
        evictedDeviceIds: [],
      });
    }
    if (path === '/phone/voice/heartbeat') {
      if (this.tombstones.has(body.deviceId)) return error(410, 'device_signed_out');
      const device = live(body.deviceId);
      if (!device) return error(404, 'device_not_registered');
      device.expiresAt = nowS + this.ttlSeconds;
      device.lastSeen = this.clock.now();
      if (body.twilioState) device.twilioState = body.twilioState;
      return json(200, { device, presence: this.presence() });
    }
    if (path === '/phone/voice/unregister-device') {
      const device = this.devices.get(body.deviceId);
      const matches = device && (!body.registrationId || device.registrationId === body.registrationId);
      if (matches) this.devices.delete(body.deviceId);
      if (body.signOut) this.tombstones.add(body.deviceId);
      return json(200, { deviceId: body.deviceId, removed: Boolean(matches) });
    }
    return error(404, 'not_found');
  }
}

/**
 * The inbox's endpoints as the service answers them: send stores one message per
 * clientMessageId and texts once (a retry with the same id gets the same message), the lists
 * answer what a test put in `conversations` and `messages`, media what it put in `media`.
 * `sendAnswers` are answers for the next sends, in order: a Response instead of sending, or
 * 'lost' to send and then fail as the network does, the answer lost on its way.
 */
export class FakeSms {
  byClientMessageId = new Map();
  /** What reached "Twilio": one entry per text sent. */
  texted = [];
  sendAnswers = [];
  conversations = [];
  messages = [];
  /** `${messageSid}/${index}` → { type, bytes }. */
  media = new Map();
  unread = 0;

  constructor(clock) {
    this.clock = clock;
  }

  handle({ path, body, query }) {
    if (path === '/phone/sms/send') {
      const next = this.sendAnswers.shift();
      if (next instanceof Response) return next;
      let message = this.byClientMessageId.get(body.clientMessageId);
      if (!message) {
        message = {
          messageSid: `SM${String(this.texted.length + 1).padStart(32, '0')}`,
          direction: 'outbound',
          from: '+14155551234',
          to: body.to,
          body: body.body,
          media: [],
          segments: 1,
          status: 'queued',
          errorCode: null,
          at: this.clock.now(),
          sentBy: 'alice@example.com',
        };
        this.byClientMessageId.set(body.clientMessageId, message);
        this.texted.push(message);
      }
      if (next === 'lost') throw new TypeError('Failed to fetch');
      return json(200, message);
    }
    if (path === '/phone/sms/conversations') return json(200, { conversations: this.conversations, cursor: null });
    if (path === '/phone/sms/messages') return json(200, { messages: this.messages, cursor: null });
    if (path === '/phone/sms/read') return json(200, { phoneId: body.phoneId, with: body.with, unread: this.unread });
    if (path === '/phone/sms/media') {
      const file = this.media.get(`${query.get('messageSid')}/${query.get('index')}`);
      if (!file) return error(404, 'not_found');
      return new Response(file.bytes, { status: 200, headers: { 'Content-Type': file.type } });
    }
    return error(404, 'not_found');
  }
}

/** A history position as the service makes it: the start in 16 hex digits, `:`, the CallSid. */
const position = (call) => `${call.startedAt.toString(16).padStart(16, '0')}:${call.callSid}`;

/**
 * The call history of Alice (alice@example.com) as the service keeps it: entries whose facts
 * only grow, her seen mark (which only moves up, and is told to her devices as `calls.seen`),
 * voicemail served from `recordings` and deleted. `missed` and `voicemailLeft` are callbacks
 * reaching the service: they change the entry and publish the event, as it does.
 */
export class FakeCalls {
  /** By callSid. */
  entries = new Map();
  seenUpTo = '';
  /** recordingSid → { type, bytes }. */
  recordings = new Map();
  deleted = [];

  constructor(publish) {
    this.publish = publish;
  }

  /** A call in the history without an event (answered, placed, …): `{ callSid, startedAt, … }`. */
  add(call) {
    const entry = {
      direction: 'inbound',
      from: '+14155550100',
      to: '+14155551234',
      phoneId: 'phone-sales',
      phoneNumber: '+14155551234',
      outcome: 'ringing',
      reason: null,
      answeredBy: null,
      answeredAt: null,
      endedAt: null,
      durationSeconds: null,
      voicemail: null,
      ...this.entries.get(call.callSid),
      ...call,
    };
    this.entries.set(entry.callSid, entry);
    return entry;
  }

  static ref({ callSid, direction, from, to, phoneId, phoneNumber, startedAt }) {
    return { callSid, direction, from, to, phoneId, phoneNumber, startedAt };
  }

  /** Nobody answered: the entry is missed (unless it knows more), and `call.missed` is told. */
  missed(call, reason = 'no_answer', options) {
    const known = this.entries.get(call.callSid);
    const entry = this.add({ ...call, reason, outcome: known && known.outcome !== 'ringing' ? known.outcome : 'missed' });
    return this.publish('call.missed', { ...FakeCalls.ref(entry), reason }, options);
  }

  /** A voicemail was recorded on the call: `voicemail.received`. */
  voicemailLeft(call, voicemail, bytes, options) {
    this.recordings.set(voicemail.recordingSid, { type: 'audio/mpeg', bytes });
    const entry = this.add({ ...call, outcome: 'voicemail', voicemail });
    return this.publish('voicemail.received', { ...FakeCalls.ref(entry), voicemail }, options);
  }

  /** Alice marks her history seen (on any device): her devices are told when the mark moved. */
  markSeen(upTo, options) {
    const at = position(this.entries.get(upTo));
    if (at <= this.seenUpTo) return undefined;
    this.seenUpTo = at;
    return this.publish('calls.seen', { upTo }, options);
  }

  /** Deleted on another device: no event, as with the service. */
  deleteVoicemail(recordingSid) {
    for (const entry of this.entries.values()) {
      if (entry.voicemail?.recordingSid === recordingSid) {
        entry.voicemail = null;
        entry.outcome = entry.answeredAt ? 'answered' : 'missed';
      }
    }
    this.recordings.delete(recordingSid);
    this.deleted.push(recordingSid);
  }

  handle({ path, body, query, init }) {
    if (path === '/phone/calls') {
      const limit = Number(query.get('limit') ?? 50);
      const before = query.get('before');
      const all = [...this.entries.values()]
        .map((entry) => ({ entry, at: position(entry) }))
        .sort((a, b) => (a.at < b.at ? 1 : -1))
        .filter(({ at }) => !before || at < before);
      const page = all.slice(0, limit);
      const calls = page.map(({ entry, at }) => ({ ...entry, seen: at <= this.seenUpTo }));
      const toAlice = (c) => c.direction === 'inbound' || (c.direction === 'internal' && c.to === 'alice@example.com');
      const unseenMissed = calls.filter((c) => !c.seen && toAlice(c) && (c.outcome === 'missed' || c.outcome === 'voicemail')).length;
      return json(200, { calls, cursor: page.length === limit ? page.at(-1).at : null, unseenMissed });
    }
    if (path === '/phone/calls/seen') {
      if (!this.entries.has(body.upTo)) return error(400, 'invalid_field');
      this.markSeen(body.upTo);
      return json(200, { upTo: body.upTo });
    }
    const recordingSid = path.slice('/phone/voicemail/'.length);
    const file = this.recordings.get(recordingSid);
    if (!file) return error(404, 'not_found');
    if (init.method === 'DELETE') {
      this.deleteVoicemail(recordingSid);
      return json(200, { recordingSid, deleted: true });
    }
    const type = query.get('format') === 'wav' ? 'audio/wav' : file.type;
    return new Response(file.bytes, { status: 200, headers: { 'Content-Type': type } });
  }
}

export { json as jsonResponse, error as errorResponse };

/**
 * A WebSocket class whose instances connect to `server`: the handshake (next microtask) checks
 * the subprotocol and the ticket as the service does; pings get pongs; `push` and
 * `serverClose` act as the server.
 */
export function webSocketClass(server) {
  return class FakeWebSocket {
    static instances = [];
    protocol = '';
    readyState = 0;
    sent = [];
    /** `{ code, reason, by: 'client' | 'server' }` once closed. */
    closed = null;
    listeners = new Map();
    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      this.createdAt = server.clock.now();
      FakeWebSocket.instances.push(this);
      server.sockets.push(this);
      queueMicrotask(() => this.handshake());
    }
    handshake() {
      if (this.readyState !== 0 || server.holdHandshakes) return;
      const [protocol, ticket] = this.protocols;
      const deviceId = server.tickets.get(ticket);
      const refused = server.refuseHandshakes > 0;
      if (refused) server.refuseHandshakes -= 1;
      if (refused || protocol !== 'softphone-presence.v1' || !deviceId || !server.live(deviceId)) {
        // A browser learns nothing of the 401 or 403: an error, then close 1006.
        this.readyState = 3;
        this.closed = { code: 1006, reason: '', by: 'server' };
        this.emit('error', {});
        this.emit('close', { code: 1006, reason: '' });
        return;
      }
      this.deviceId = deviceId;
      this.protocol = protocol;
      this.readyState = 1;
      server.socketAlive(deviceId);
      this.emit('open', {});
    }
    send(data) {
      if (this.readyState === 0) throw new DOMException('Still in CONNECTING state.', 'InvalidStateError');
      if (this.readyState !== 1) return;
      this.sent.push(data);
      const frame = JSON.parse(data);
      if (frame.type !== 'ping') return;
      const device = server.devices.get(this.deviceId);
      if (server.socket && frame.twilioState && device) device.twilioState = frame.twilioState;
      const live = !server.socket || server.socketAlive(this.deviceId);
      if (server.answerPings) queueMicrotask(() => this.frame(live ? '{"type":"pong"}' : '{"type":"pong","live":false}'));
    }
    close(code = 1000, reason = '') {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      this.closed = { code, reason, by: 'client' };
      if (this.deviceId) server.socketClosed(this.deviceId);
      queueMicrotask(() => this.emit('close', { code, reason }));
    }
    /** A text frame from the server. */
    frame(text) {
      if (this.readyState === 1) this.emit('message', { data: text });
    }
    push(event) {
      this.frame(JSON.stringify(event));
    }
    /** The server or the network closes it (1006: no close frame). */
    serverClose(code = 1006, reason = '') {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      this.closed = { code, reason, by: 'server' };
      if (this.deviceId) server.socketClosed(this.deviceId);
      this.emit('close', { code, reason });
    }
    addEventListener(type, listener) {
      if (!this.listeners.has(type)) this.listeners.set(type, []);
      this.listeners.get(type).push(listener);
    }
    emit(type, event) {
      for (const listener of this.listeners.get(type) ?? []) listener(event);
    }
  };
}

export class FakeStorage {
  map = new Map();
  getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }
  setItem(key, value) {
    this.map.set(key, String(value));
  }
  removeItem(key) {
    this.map.delete(key);
  }
}

/** navigator.locks for exclusive locks: one holder per name, the others queue in order. */
export class FakeLocks {
  held = new Map();
  queues = new Map();

  request(name, options, callback) {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(name) ?? [];
      this.queues.set(name, queue);
      const entry = { callback, resolve, reject };
      options.signal?.addEventListener('abort', () => {
        const i = queue.indexOf(entry);
        if (i >= 0) {
          queue.splice(i, 1);
          reject(new DOMException('The request was aborted.', 'AbortError'));
        }
      });
      queue.push(entry);
      this.pump(name);
    });
  }

  waiting(name) {
    return this.queues.get(name)?.length ?? 0;
  }

  pump(name) {
    if (this.held.has(name)) return;
    const entry = this.queues.get(name)?.shift();
    if (!entry) return;
    this.held.set(name, entry);
    Promise.resolve()
      .then(() => entry.callback({ name, mode: 'exclusive' }))
      .then(entry.resolve, entry.reject)
      .finally(() => {
        this.held.delete(name);
        this.pump(name);
      });
  }
}

/** A BroadcastChannel class whose instances reach each other, and only each other. */
export function channelClass() {
  const members = new Map();
  return class FakeBroadcastChannel {
    listeners = [];
    constructor(name) {
      this.name = name;
      if (!members.has(name)) members.set(name, new Set());
      members.get(name).add(this);
    }
    postMessage(data) {
      const copy = structuredClone(data);
      for (const other of members.get(this.name) ?? []) {
        if (other !== this) queueMicrotask(() => other.listeners.forEach((l) => l({ data: copy })));
      }
    }
    addEventListener(type, listener) {
      if (type === 'message') this.listeners.push(listener);
    }
    close() {
      members.get(this.name)?.delete(this);
    }
  };
}

/** A Twilio Device stand-in that records what the library does with it. */
export function deviceClass() {
  return class FakeDevice {
    static instances = [];
    state = 'unregistered';
    listeners = new Map();
    registerCalls = 0;
    constructor(token, options) {
      this.tokens = [token];
      this.options = options;
      FakeDevice.instances.push(this);
    }
    get token() {
      return this.tokens.at(-1);
    }
    on(event, listener) {
      if (!this.listeners.has(event)) this.listeners.set(event, []);
      this.listeners.get(event).push(listener);
      return this;
    }
    emit(event, ...args) {
      for (const l of this.listeners.get(event) ?? []) l(...args);
    }
    setState(state) {
      this.state = state;
      this.emit(state);
    }
    async register() {
      this.registerCalls += 1;
      this.setState('registering');
    }
    updateToken(token) {
      if (this.state === 'destroyed') throw new Error('destroyed');
      this.tokens.push(token);
    }
    destroy() {
      this.setState('destroyed');
      this.listeners.clear();
    }
  };
}

function pageEvent(type, persisted) {
  const event = new Event(type);
  Object.defineProperty(event, 'persisted', { value: persisted });
  return event;
}

/**
 * One browser profile: shared storage, locks and channels; `tab()` opens a tab in it. With
 * `realtime: true` the tabs have a WebSocket (connected to the fake server), else none.
 */
export function browser({ locks = true, realtime = false } = {}) {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  const WebSocket = realtime ? webSocketClass(server) : null;
  const storage = new FakeStorage();
  const lockManager = locks ? new FakeLocks() : null;
  const Channel = channelClass();
  const Device = deviceClass();
  let uuids = 0;
  let tabs = 0;
  const profile = {
    clock,
    server,
    storage,
    locks: lockManager,
    Device,
    WebSocket,
    tab({ name = `tab${++tabs}`, random = () => 0.5, appTokens = ['app-jwt'], ...options } = {}) {
      const page = new EventTarget();
      const tokensAsked = [];
      const presence = new SoftphonePresence({
        apiBaseUrl: 'https://api.test/',
        getAppToken: async ({ refresh }) => {
          const token = appTokens[Math.min(tokensAsked.length, appTokens.length - 1)];
          tokensAsked.push(refresh ? `${token} (refresh)` : token);
          return token;
        },
        label: 'Test browser',
        Device,
        ...options,
        environment: {
          fetch: server.fetchFor(name),
          storage,
          locks: lockManager,
          BroadcastChannel: Channel,
          WebSocket,
          page,
          now: clock.now,
          setTimeout: clock.setTimeout,
          clearTimeout: clock.clearTimeout,
          random,
          randomUUID: () => `00000000-0000-4000-8000-${String(++uuids).padStart(12, '0')}`,
          userAgent: 'test',
          ...options.environment,
        },
      });
      const states = [];
      const events = {
        registered: [],
        error: [],
        evicted: [],
        twilio: [],
        device: [],
        leader: [],
        event: [],
        resync: [],
        realtime: [],
        'devices.changed': [],
        'device.signedOut': [],
        'call.state': [],
        'sms.received': [],
        'sms.sent': [],
        'sms.status': [],
        'sms.read': [],
        'call.missed': [],
        'voicemail.received': [],
        'calls.seen': [],
        'phones.changed': [],
      };
      presence.on('state', (change) => states.push(change));
      for (const type of Object.keys(events)) presence.on(type, (payload) => events[type].push(payload));
      return {
        name,
        presence,
        states,
        events,
        tokensAsked,
        get stateNames() {
          return states.map((s) => s.state);
        },
        hide(persisted = false) {
          page.dispatchEvent(pageEvent('pagehide', persisted));
        },
        show(persisted = true) {
          page.dispatchEvent(pageEvent('pageshow', persisted));
        },
      };
    },
  };
  return profile;
}
