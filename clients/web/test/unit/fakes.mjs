// Fakes for every input of SoftphonePresence: clock and timers, the server, storage, Web Locks,
// BroadcastChannel, the page's pagehide/pageshow and the Twilio Device. Nothing here sleeps.
import { SoftphonePresence } from '../../dist/softphone-presence.js';

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

/**
 * The presence API as the contract describes it, in memory: register (signIn, tombstones,
 * registrationId), heartbeat (404 past the TTL, 410 when signed out), unregister.
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

  constructor(clock) {
    this.clock = clock;
  }

  /** A fetch bound to one tab, so requests can be told apart. */
  fetchFor(tab) {
    return async (url, init) => {
      const u = new URL(url);
      const request = {
        tab,
        path: u.pathname,
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

  handle({ path, body, token }) {
    if (this.rejectedTokens.has(token)) return error(401, 'unauthorized');
    const nowS = Math.floor(this.clock.now() / 1000);
    const live = (id) => {
      const d = this.devices.get(id);
      return d && d.expiresAt > nowS ? d : undefined;
    };
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
        identity: 'user_alice_40example_2Ecom',
        token: `twilio-token-${this.count}`,
        expiresIn: 3600,
        registrationId: device.registrationId,
        assignedPhones: [],
        device,
        presence: { ttlSeconds: this.ttlSeconds, heartbeatIntervalSeconds: this.heartbeatIntervalSeconds },
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
      return json(200, {
        device,
        presence: { ttlSeconds: this.ttlSeconds, heartbeatIntervalSeconds: this.heartbeatIntervalSeconds },
      });
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

export { json as jsonResponse, error as errorResponse };

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

/** One browser profile: shared storage, locks and channels; `tab()` opens a tab in it. */
export function browser({ locks = true } = {}) {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
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
      const events = { registered: [], error: [], evicted: [], twilio: [], device: [], leader: [] };
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
