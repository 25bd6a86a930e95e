// src/api.ts
var PATHS = {
  register: "/phone/voice/register-device",
  heartbeat: "/phone/voice/heartbeat",
  unregister: "/phone/voice/unregister-device",
  devices: "/phone/voice/devices",
  userPhones: "/phone/user-phones",
  events: "/phone/events",
  ticket: "/phone/events/ticket",
  smsConversations: "/phone/sms/conversations",
  smsMessages: "/phone/sms/messages",
  smsRead: "/phone/sms/read",
  smsSend: "/phone/sms/send",
  smsMedia: "/phone/sms/media",
  calls: "/phone/calls",
  callsSeen: "/phone/calls/seen",
  /** `/{recordingSid}` follows. */
  voicemail: "/phone/voicemail",
  presenceStatus: "/phone/presence/status",
  team: "/phone/team"
};

// src/requests.ts
var ServiceError = class extends Error {
  name = "ServiceError";
  code;
  /** The HTTP status, when the server answered. */
  status;
  /** The request field at fault, with `invalid_field`. */
  field;
  /**
   * Which rule refused: `region` or `premium` with `destination_not_allowed`;
   * `texts_per_minute` or `new_recipients_per_day` with `rate_limited`.
   */
  reason;
  /** How long the server asked to wait (`Retry-After`), with 503 and 429. */
  retryAfterMs;
  constructor(code, message, details = {}) {
    super(message);
    this.code = code;
    this.status = details.status;
    this.field = details.field;
    this.reason = details.reason;
    this.retryAfterMs = details.retryAfterMs;
  }
};
function pageQuery({ before, limit }) {
  return { ...before ? { before } : {}, ...limit !== void 0 ? { limit: String(limit) } : {} };
}
function withQuery(path, query) {
  const search = new URLSearchParams(query).toString();
  return search ? `${path}?${search}` : path;
}
function ok(response) {
  return response.status >= 200 && response.status < 300;
}
var DataRequests = class {
  constructor(api, make) {
    this.api = api;
    this.make = make;
  }
  api;
  make;
  /** The JSON object a 2xx answer carries; else rejects with the error it means. */
  async json(method, path, body) {
    return this.answer(await this.api.exchange(method, path, body));
  }
  /** The file a 2xx answer carries, with its type; else rejects with the error it means. */
  async blob(path) {
    const exchange = await this.api.exchange("GET", path);
    if (exchange.kind === "response" && ok(exchange.response)) return exchange.response.blob();
    throw await this.failure(exchange);
  }
  async answer(exchange) {
    if (exchange.kind === "response" && ok(exchange.response)) {
      const body = await exchange.response.json().catch(() => void 0);
      if (typeof body === "object" && body !== null) return body;
      throw this.make("malformed_response", "the service answered with no JSON object", { status: exchange.response.status });
    }
    throw await this.failure(exchange);
  }
  async failure(exchange) {
    switch (exchange.kind) {
      case "network":
        return this.make("network", "the service could not be reached", {});
      case "appToken":
        return this.make("app_token", exchange.message, {});
      case "response": {
        const { status } = exchange.response;
        const body = await exchange.response.json().catch(() => void 0);
        const retryAfterMs2 = this.api.retryAfter(exchange.response);
        return this.make(body?.error?.code ?? `http_${status}`, body?.error?.message ?? body?.message ?? `HTTP ${status}`, {
          status,
          ...body?.error?.field ? { field: body.error.field } : {},
          ...body?.error?.reason ? { reason: body.error.reason } : {},
          ...retryAfterMs2 !== void 0 ? { retryAfterMs: retryAfterMs2 } : {}
        });
      }
    }
  }
};

// src/call-history.ts
var CallsError = class extends ServiceError {
  name = "CallsError";
};
var CallHistory = class {
  requests;
  constructor(api) {
    this.requests = new DataRequests(api, (code, message, details) => new CallsError(code, message, details));
  }
  /** The user's calls, newest first, with `unseenMissed` (missed calls and voicemails to them after their seen mark, in this page). */
  async calls(options = {}) {
    return await this.requests.json("GET", withQuery(PATHS.calls, pageQuery(options)));
  }
  /** Move this user's seen mark up to the call `upTo` (a callSid; never back). Their devices hear `calls.seen`. */
  async markCallsSeen(upTo) {
    return await this.requests.json("POST", PATHS.callsSeen, { upTo });
  }
  /**
   * A voicemail's recording (`audio/mpeg`, or `audio/wav` with `{ format: 'wav' }`), fetched
   * with the app token in a header: play it from `URL.createObjectURL(blob)`. Rejects with
   * `not_found` when it is not on one of the user's calls, or is gone at Twilio.
   */
  voicemail(recordingSid, options = {}) {
    const path = `${PATHS.voicemail}/${encodeURIComponent(recordingSid)}`;
    return this.requests.blob(withQuery(path, options.format === "wav" ? { format: "wav" } : {}));
  }
  /** Delete a voicemail at Twilio and from every entry that shows it (for a group's number, any member may). */
  async deleteVoicemail(recordingSid) {
    return await this.requests.json("DELETE", `${PATHS.voicemail}/${encodeURIComponent(recordingSid)}`);
  }
};

// src/backoff.ts
var FIRST_BACKOFF_MS = 1e3;
var MAX_BACKOFF_MS = 3e4;
function backoffMs(failures, random) {
  const base = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.max(0, failures - 1));
  return base / 2 + base / 2 * random();
}
function retryAfterMs(value, now) {
  if (value === null || value.trim() === "") return void 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1e3;
  const date = Date.parse(value);
  return Number.isNaN(date) ? void 0 : Math.max(0, date - now);
}

// src/segments.ts
var MAX_SMS_CHARS = 1600;
var GSM_BASIC = new Set(
  `@£$¥èéùìòÇ
Øø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà`
);
var GSM_EXTENDED = new Set("^{}\\[~]|€\f");
function segments(body) {
  const characters = [...body].length;
  const sendable = characters > 0 && characters <= MAX_SMS_CHARS;
  let septets = 0;
  for (const c of body) {
    if (GSM_BASIC.has(c)) {
      septets += 1;
    } else if (GSM_EXTENDED.has(c)) {
      septets += 2;
    } else {
      return { encoding: "UCS-2", segments: parts(body.length, 70, 67), characters, sendable };
    }
  }
  return { encoding: "GSM-7", segments: parts(septets, 160, 153), characters, sendable };
}
function parts(units, single, each) {
  return units <= single ? 1 : Math.ceil(units / each);
}

// src/inbox.ts
var SmsError = class extends ServiceError {
  name = "SmsError";
  /** With `send`: the id the text was sent with. Pass it again to retry without texting twice. */
  clientMessageId;
  constructor(code, message, details = {}) {
    super(code, message, details);
    this.clientMessageId = details.clientMessageId;
  }
};
var DEFAULT_ATTEMPTS = 4;
var MAX_RETRY_AFTER_MS = 6e4;
var SmsInbox = class {
  constructor(env, api) {
    this.env = env;
    this.requests = new DataRequests(api, (code, message, details) => new SmsError(code, message, details));
  }
  env;
  requests;
  /** The user's conversations on all their numbers, newest activity first, with their own unread counts. */
  conversations(options = {}) {
    return this.get(PATHS.smsConversations, pageQuery(options));
  }
  /** One conversation's messages, newest first. */
  messages(phoneId, withParty, options = {}) {
    return this.get(PATHS.smsMessages, { phoneId, with: withParty, ...pageQuery(options) });
  }
  /**
   * Move this user's read mark up to the message `upTo` (a messageSid; never back). Their other
   * devices hear `sms.read`; colleagues sharing the number keep their own count.
   */
  async markRead(phoneId, withParty, upTo) {
    return await this.requests.json("POST", PATHS.smsRead, { phoneId, with: withParty, upTo });
  }
  /**
   * Text `to` from the number `phoneId`. Resolves to the stored message (also announced to
   * every user of the number as `sms.sent`). Rejects with an `SmsError`: `recipient_opted_out`
   * (409), `destination_not_allowed` (403, `reason` `region` or `premium`),
   * `destination_refused` or `phone_not_assigned` (403), `invalid_field` with `field` (400; an
   * empty or too long body is refused here, without a request), `rate_limited` (429, `reason`
   * `texts_per_minute` or `new_recipients_per_day`, when its Retry-After is longer than a
   * minute or the tries are used up), or, once the tries are used up, `twilio_unavailable`
   * (503) or `network`.
   */
  async send(phoneId, to, body, options = {}) {
    const clientMessageId = options.clientMessageId ?? this.env.randomUUID();
    const characters = [...body].length;
    if (characters === 0 || characters > MAX_SMS_CHARS) {
      throw new SmsError("invalid_field", `body must be 1 to ${MAX_SMS_CHARS} characters`, { field: "body", clientMessageId });
    }
    const attempts = Math.max(1, options.attempts ?? DEFAULT_ATTEMPTS);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.requests.json("POST", PATHS.smsSend, { phoneId, to, body, clientMessageId });
      } catch (error) {
        if (!(error instanceof SmsError)) throw error;
        error.clientMessageId = clientMessageId;
        const wait = error.retryAfterMs ?? backoffMs(attempt, () => this.env.random());
        if (attempt >= attempts || !retriable(error) || wait > MAX_RETRY_AFTER_MS) throw error;
        await this.sleep(wait, options.signal, clientMessageId);
      }
    }
  }
  /** A file of an MMS (`message.media[i].index`), fetched through the service with the app token. */
  media(messageSid, index) {
    return this.requests.blob(withQuery(PATHS.smsMedia, { messageSid, index: String(index) }));
  }
  get(path, query) {
    return this.requests.json("GET", withQuery(path, query));
  }
  sleep(ms, signal, clientMessageId) {
    return new Promise((resolve, reject) => {
      const aborted = () => new SmsError("aborted", "the send was given up before it succeeded", { clientMessageId });
      if (signal?.aborted) {
        reject(aborted());
        return;
      }
      const timer = this.env.setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        this.env.clearTimeout(timer);
        reject(aborted());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
};
function retriable(error) {
  if (error.code === "network" || error.code === "send_in_progress") return true;
  const status = error.status ?? 0;
  return status === 408 || status === 429 || status >= 500 && status !== 502;
}

// src/emitter.ts
var Emitter = class {
  handlers = /* @__PURE__ */ new Map();
  on(type, handler) {
    let set = this.handlers.get(type);
    if (!set) {
      set = /* @__PURE__ */ new Set();
      this.handlers.set(type, set);
    }
    set.add(handler);
    return () => this.off(type, handler);
  }
  off(type, handler) {
    this.handlers.get(type)?.delete(handler);
  }
  emit(type, payload) {
    for (const handler of [...this.handlers.get(type) ?? []]) {
      try {
        handler(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
};

// src/people.ts
var PeopleError = class extends ServiceError {
  name = "PeopleError";
};
function requests(api) {
  return new DataRequests(api, (code, message, details) => new PeopleError(code, message, details));
}
var PresenceStatus = class {
  requests;
  constructor(api) {
    this.requests = requests(api);
  }
  /** The user's presence, as their colleagues see it. */
  async get() {
    return await this.requests.json("GET", PATHS.presenceStatus);
  }
  /** Replace the user's status; their other devices hear `presence.status`, their colleagues `team.presence`. */
  async set(update) {
    const body = { status: update.status, until: update.until ?? null, note: update.note ?? null };
    return await this.requests.json("PUT", PATHS.presenceStatus, body);
  }
};
var TeamPresence = class {
  constructor(api, source) {
    this.source = source;
    this.requests = requests(api);
  }
  source;
  requests;
  /** One page of the org (or of `group`), sorted by name then email. */
  async page(options = {}) {
    const query = {};
    if (options.group) query.group = options.group;
    if (options.after) query.after = options.after;
    if (options.limit !== void 0) query.limit = String(options.limit);
    return await this.requests.json("GET", withQuery(PATHS.team, query));
  }
  /** A live view of the org (or of `group`): every page, then each change as it comes. */
  watch(options = {}) {
    return new TeamView(this, this.source, options.group);
  }
};
var TeamView = class {
  constructor(team, source, group) {
    this.team = team;
    this.group = group;
    this.detach = [
      source.on("teamPresence", (person) => this.apply(person)),
      source.on("realtime", ({ state }) => {
        if (state === "connected" && this.loaded) this.load().catch(() => void 0);
      })
    ];
    source.watchTeam("org");
  }
  team;
  group;
  byEmail = /* @__PURE__ */ new Map();
  changes = new Emitter();
  detach;
  /** Changes that came while the pages loaded: applied after them, in order. */
  pending = [];
  /** Read once: a new realtime connection reads the pages again (changes while it was down are not sent again). */
  loaded = false;
  /** Read every page (again): call once to start, and after a `resync`. */
  async load() {
    this.pending ??= [];
    const loaded = [];
    let after;
    for (; ; ) {
      const page = await this.team.page({ group: this.group, after, limit: 500 });
      loaded.push(...page.people);
      if (!page.next) break;
      after = page.next;
    }
    this.byEmail.clear();
    for (const person of loaded) this.byEmail.set(person.email, person);
    const pending = this.pending ?? [];
    this.pending = null;
    this.loaded = true;
    for (const person of pending) this.apply(person);
    this.emit();
    return this.people;
  }
  get people() {
    return [...this.byEmail.values()].sort(
      (a, b) => sortName(a).localeCompare(sortName(b)) || (a.email < b.email ? -1 : a.email > b.email ? 1 : 0)
    );
  }
  on(type, handler) {
    return this.changes.on(type, handler);
  }
  close() {
    for (const detach of this.detach) detach();
  }
  apply(person) {
    if (this.pending) {
      this.pending.push(person);
      return;
    }
    if (this.group !== void 0 && !this.byEmail.has(person.email)) return;
    this.byEmail.set(person.email, person);
    this.emit();
  }
  emit() {
    this.changes.emit("change", this.people);
  }
};
function sortName(person) {
  return (person.name ?? person.email).toLowerCase();
}
function isPersonPresence(data) {
  if (typeof data !== "object" || data === null) return false;
  const p = data;
  return typeof p.email === "string" && typeof p.effective === "string" && typeof p.status === "string";
}

// src/environment.ts
function browserStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
function uuidV4(random) {
  const hex = [...Array(32)].map(() => Math.floor(random() * 16).toString(16));
  hex[12] = "4";
  hex[16] = (parseInt(hex[16] ?? "0", 16) & 3 | 8).toString(16);
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
function browserEnvironment() {
  const g = globalThis;
  const nav = g.navigator;
  return {
    fetch: (url, init) => g.fetch(url, init),
    storage: browserStorage(),
    locks: nav?.locks ?? null,
    BroadcastChannel: g.BroadcastChannel ?? null,
    WebSocket: g.WebSocket ?? null,
    page: g.window ?? null,
    now: () => Date.now(),
    setTimeout: (callback, ms) => g.setTimeout(callback, ms),
    clearTimeout: (handle) => g.clearTimeout(handle),
    random: () => Math.random(),
    randomUUID: () => typeof g.crypto?.randomUUID === "function" ? g.crypto.randomUUID() : uuidV4(Math.random),
    userAgent: nav?.userAgent ?? ""
  };
}
function labelFromUserAgent(userAgent) {
  const browser = /Edg\//.test(userAgent) ? "Edge" : /OPR\//.test(userAgent) ? "Opera" : /Firefox\//.test(userAgent) ? "Firefox" : /Chrom(e|ium)\//.test(userAgent) ? "Chrome" : /Safari\//.test(userAgent) ? "Safari" : "Web browser";
  const os = /Android/.test(userAgent) ? "Android" : /iPhone|iPad|iPod/.test(userAgent) ? "iOS" : /Mac OS X|Macintosh/.test(userAgent) ? "macOS" : /Windows/.test(userAgent) ? "Windows" : /CrOS/.test(userAgent) ? "ChromeOS" : /Linux/.test(userAgent) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

// src/lifecycle.ts
var Run = class {
  next = { kind: "idle" };
};
var STOPPED = { state: "stopped", leader: false, suspended: false };
function isRunning(lifecycle) {
  return lifecycle.leader && lifecycle.state !== "signedOut";
}

// src/events.ts
var EVENT_TYPES = [
  "devices.changed",
  "device.signedOut",
  "call.state",
  "sms.received",
  "sms.sent",
  "sms.status",
  "sms.read",
  "call.missed",
  "voicemail.received",
  "calls.seen",
  "voicemail.deleted",
  "presence.status",
  "phones.changed"
];
function isEventOf(event, type) {
  return event.type === type;
}
var CURSOR = /^[0-9a-f]{20}$/;
function isCursor(value) {
  return typeof value === "string" && CURSOR.test(value);
}
function parseEvent(value) {
  if (typeof value !== "object" || value === null) return null;
  const { cursor, type, at, data } = value;
  if (!isCursor(cursor) || typeof type !== "string" || type === "" || typeof at !== "number") return null;
  if (typeof data !== "object" || data === null) return null;
  return { cursor, type, at, data };
}
var EventLog = class {
  _cursor = null;
  seen = /* @__PURE__ */ new Set();
  get cursor() {
    return this._cursor;
  }
  /** Whether `event` is new; a new one is remembered. */
  accept(event) {
    if (this._cursor !== null && event.cursor <= this._cursor) return false;
    if (this.seen.has(event.cursor)) return false;
    this.seen.add(event.cursor);
    return true;
  }
  /** Everything up to `cursor` has been handed over (it never moves back). */
  advance(cursor) {
    if (this._cursor !== null && cursor <= this._cursor) return;
    this._cursor = cursor;
    for (const seen of this.seen) if (seen <= cursor) this.seen.delete(seen);
  }
  snapshot() {
    return { cursor: this._cursor, seen: [...this.seen] };
  }
  /** Take over another tab's log (a tab that just opened, from the leader). */
  merge(snapshot) {
    for (const seen of snapshot.seen) if (isCursor(seen)) this.seen.add(seen);
    if (isCursor(snapshot.cursor)) this.advance(snapshot.cursor);
  }
};

// src/realtime.ts
var SUBPROTOCOL = "softphone-presence.v1";
var PAGE_LIMIT = 100;
var PING_MS = 4 * 6e4;
var PING_JITTER_MS = 6e4;
var KEEP_ALIVE_JITTER = 0.1;
var PONG_TIMEOUT_MS = 1e4;
var OPEN_TIMEOUT_MS = 15e3;
var REFRESH_MS = 110 * 6e4;
var REFRESH_JITTER_MS = 5 * 6e4;
var STABLE_MS = 6e4;
var CLOSE_LOST = 4e3;
var RealtimeChannel = class {
  host;
  running = false;
  /** Bumped by `stop()`: answers to requests of an earlier run are dropped. */
  run = 0;
  /** The connection events come through. */
  link = null;
  /** A connection being opened: the first, one after a loss, or the replacement of `link`. */
  pending = null;
  /** A start cursor or a ticket is being asked for. */
  asking = false;
  waitingForRegister = false;
  /** Tickets refused with 404 since a connection last opened. */
  refusals = 0;
  failures = 0;
  retryTimer = null;
  catchingUp = false;
  catchUpAgain = false;
  catchUpFailures = 0;
  catchUpTimer = null;
  /** Pushed while a catch-up runs: delivered after it, so that events come in order. */
  buffered = [];
  _state = "closed";
  constructor(host) {
    this.host = host;
  }
  get state() {
    return this._state;
  }
  /** Open the channel (once the device is registered); nothing if it runs already. */
  start() {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this.refusals = 0;
    this.catchUpFailures = 0;
    this.setState("connecting");
    void this.connect();
  }
  /** Close it: sign-out, stop, `pagehide`, or this tab no longer leads. The log is kept. */
  stop() {
    if (!this.running) return;
    this.running = false;
    this.run += 1;
    this.asking = false;
    this.waitingForRegister = false;
    this.catchingUp = false;
    this.buffered = [];
    this.cancel(this.retryTimer);
    this.cancel(this.catchUpTimer);
    this.retryTimer = null;
    this.catchUpTimer = null;
    for (const link of [this.link, this.pending]) if (link) this.drop(link, 1e3, "stopped");
    this.link = null;
    this.pending = null;
    this.setState("closed");
  }
  /** The device registered again: a ticket refused with 404 may now be asked for again. */
  registered() {
    if (!this.running || !this.waitingForRegister) return;
    this.waitingForRegister = false;
    this.schedule(this.refusals > 1 ? this.backoff(this.refusals - 1) : 0);
  }
  // ── connecting ────────────────────────────────────────────────────────────
  async connect() {
    if (!this.running || this.asking || this.pending || this.waitingForRegister) return;
    const run = this.run;
    this.asking = true;
    const ticket = await this.ticket(run);
    if (run !== this.run) return;
    this.asking = false;
    if (ticket.kind === "notRegistered") {
      this.refusals += 1;
      this.waitingForRegister = true;
      this.host.notRegistered();
    } else if (ticket.kind === "failed") {
      this.retry();
    } else {
      this.open(ticket.ticket);
    }
  }
  /** The start cursor when there is none yet (before the socket, so nothing falls between), then a ticket. */
  async ticket(run) {
    if (this.host.log.cursor === null) {
      const start = await this.host.request("GET", PATHS.events);
      if (run !== this.run) return { kind: "failed" };
      const cursor = start.kind === "ok" ? start.body.cursor : void 0;
      if (!isCursor(cursor)) return { kind: "failed" };
      this.host.advance(cursor);
    }
    const outcome = await this.host.request("POST", PATHS.ticket, { deviceId: this.host.deviceId });
    if (outcome.kind === "notRegistered") return outcome;
    if (outcome.kind !== "ok") return { kind: "failed" };
    const body = outcome.body;
    if (typeof body.ticket !== "string" || typeof body.url !== "string") return { kind: "failed" };
    return { kind: "ok", ticket: body };
  }
  open({ url, ticket }) {
    const WebSocketClass = this.host.env.WebSocket;
    let ws;
    try {
      if (!WebSocketClass) throw new Error("no WebSocket");
      ws = new WebSocketClass(url, [SUBPROTOCOL, ticket]);
    } catch {
      this.retry();
      return;
    }
    const link = {
      ws,
      openedAt: null,
      closed: false,
      openTimer: null,
      pingTimer: null,
      pongTimer: null,
      refreshTimer: null,
      pinged: null
    };
    this.pending = link;
    link.openTimer = this.later(OPEN_TIMEOUT_MS, () => this.lost(link));
    ws.addEventListener("open", () => this.opened(link));
    ws.addEventListener("message", (event) => this.received(link, event.data));
    ws.addEventListener("error", () => this.lost(link));
    ws.addEventListener("close", () => this.lost(link));
  }
  opened(link) {
    if (link.closed || link !== this.pending) return;
    this.pending = null;
    this.refusals = 0;
    this.cancel(link.openTimer);
    link.openedAt = this.host.env.now();
    const previous = this.link;
    this.link = link;
    if (previous) this.drop(previous, 1e3, "replaced");
    this.schedulePing(link);
    const refreshIn = REFRESH_MS - REFRESH_JITTER_MS * this.host.env.random();
    link.refreshTimer = this.later(refreshIn, () => void this.connect());
    this.setState("connected");
    for (const team of this.host.teams()) this.sendFrame(link, { type: "subscribe", team });
    void this.catchUp();
  }
  /** Subscribe the open connection to `team` now (the next ones do on their own). */
  subscribe(team) {
    if (this.link && !this.link.closed) this.sendFrame(this.link, { type: "subscribe", team });
  }
  sendFrame(link, frame) {
    try {
      link.ws.send(JSON.stringify(frame));
    } catch {
      this.lost(link);
    }
  }
  received(link, data) {
    if (link.closed || typeof data !== "string") return;
    this.cancel(link.pongTimer);
    link.pongTimer = null;
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (isPong(message)) {
      const report = link.pinged;
      link.pinged = null;
      if (report && Object.keys(report).length > 0) this.host.reported(report);
      if (message.live === false) this.host.notRegistered();
      return;
    }
    if (isTeamPresence(message)) {
      this.host.teamPresence(message.data);
      return;
    }
    const event = parseEvent(message);
    if (!event) return;
    if (this.catchingUp) this.buffered.push(event);
    else this.host.deliver([event]);
  }
  schedulePing(link) {
    const socket = this.host.socket();
    const random = this.host.env.random();
    const delay = socket ? socket.keepAliveSeconds * 1e3 * (1 - KEEP_ALIVE_JITTER * random) : PING_MS + PING_JITTER_MS * random;
    link.pingTimer = this.later(delay, () => this.ping(link));
  }
  /** Ping now (and then on the interval again): the keep-alive, or a changed Twilio state to report. */
  pingNow() {
    const link = this.link;
    if (!link || link.closed) return;
    this.cancel(link.pingTimer);
    this.ping(link);
  }
  ping(link) {
    if (link.closed) return;
    const report = this.host.report();
    try {
      link.ws.send(JSON.stringify({ type: "ping", ...report }));
    } catch {
      this.lost(link);
      return;
    }
    link.pinged = report;
    this.cancel(link.pongTimer);
    link.pongTimer = this.later(PONG_TIMEOUT_MS, () => this.lost(link));
    this.schedulePing(link);
  }
  /** Closed by the server or the network, refused, silent after a ping, or too slow to open. */
  lost(link) {
    if (link.closed) return;
    this.drop(link, CLOSE_LOST, "lost");
    if (!this.running) return;
    if (link === this.pending) {
      this.pending = null;
      this.retry();
      return;
    }
    if (link !== this.link) return;
    this.link = null;
    if (link.openedAt !== null && this.host.env.now() - link.openedAt >= STABLE_MS) this.failures = 0;
    this.setState("connecting");
    if (!this.pending && !this.asking) this.retry();
  }
  drop(link, code, reason) {
    link.closed = true;
    for (const timer of [link.openTimer, link.pingTimer, link.pongTimer, link.refreshTimer]) this.cancel(timer);
    try {
      link.ws.close(code, reason);
    } catch {
    }
  }
  retry() {
    this.failures += 1;
    this.schedule(this.backoff(this.failures));
  }
  schedule(ms) {
    this.cancel(this.retryTimer);
    this.retryTimer = this.later(ms, () => {
      this.retryTimer = null;
      void this.connect();
    });
  }
  /** 1, 2, 4 … 30 s, each time between half and all of it, at random. */
  backoff(failures) {
    return backoffMs(failures, () => this.host.env.random());
  }
  // ── catch-up ──────────────────────────────────────────────────────────────
  /** After every connect: the events after the log's cursor, page after page. */
  async catchUp() {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return;
    }
    const run = this.run;
    this.catchingUp = true;
    this.cancel(this.catchUpTimer);
    this.catchUpTimer = null;
    let ok2;
    do {
      this.catchUpAgain = false;
      ok2 = await this.catchUpPages(run);
      if (run !== this.run) return;
    } while (ok2 && this.catchUpAgain);
    this.catchingUp = false;
    const buffered = this.buffered;
    this.buffered = [];
    if (buffered.length > 0) this.host.deliver(buffered);
    if (run !== this.run) return;
    if (ok2) {
      this.catchUpFailures = 0;
      return;
    }
    this.catchUpFailures += 1;
    this.catchUpTimer = this.later(this.backoff(this.catchUpFailures), () => {
      this.catchUpTimer = null;
      if (this.link) void this.catchUp();
    });
  }
  /** `false` when a request failed (try again later). */
  async catchUpPages(run) {
    let resynced = false;
    for (; ; ) {
      const after = this.host.log.cursor;
      if (after === null) return false;
      const device = encodeURIComponent(this.host.deviceId);
      const outcome = await this.host.request("GET", `${PATHS.events}?after=${after}&limit=${PAGE_LIMIT}&deviceId=${device}`);
      if (run !== this.run) return false;
      if (outcome.kind === "cursorExpired" || outcome.kind === "fatal") {
        if (resynced) return false;
        resynced = true;
        const fresh = await this.host.request("GET", PATHS.events);
        if (run !== this.run) return false;
        const cursor = fresh.kind === "ok" ? fresh.body.cursor : void 0;
        if (!isCursor(cursor)) return false;
        this.host.advance(cursor);
        this.host.resync();
        if (run !== this.run) return false;
        continue;
      }
      if (outcome.kind !== "ok") return false;
      const body = outcome.body;
      if (!Array.isArray(body.events) || !isCursor(body.cursor)) return false;
      const events = body.events.map(parseEvent).filter((event) => event !== null);
      this.host.deliver(events);
      if (run !== this.run) return false;
      this.host.advance(body.cursor);
      const more = typeof body.more === "boolean" ? body.more : body.events.length >= PAGE_LIMIT;
      if (!more) return true;
    }
  }
  // ── helpers ───────────────────────────────────────────────────────────────
  setState(state) {
    if (state === this._state) return;
    this._state = state;
    this.host.state(state);
  }
  later(ms, callback) {
    return this.host.env.setTimeout(callback, ms);
  }
  cancel(timer) {
    if (timer !== null && timer !== void 0) this.host.env.clearTimeout(timer);
  }
};
function isTeamPresence(message) {
  return typeof message === "object" && message !== null && message.type === "team.presence";
}
function isPong(message) {
  return typeof message === "object" && message !== null && message.type === "pong";
}

// src/http.ts
var ApiClient = class {
  constructor(env, baseUrl, getAppToken) {
    this.env = env;
    this.baseUrl = baseUrl;
    this.getAppToken = getAppToken;
  }
  env;
  baseUrl;
  getAppToken;
  /** The last app token used, kept for `pagehide`, where nothing can be awaited. */
  lastToken = null;
  /** A path of the API, or an absolute URL the server named (`presence.heartbeatUrl`) as is. */
  url(path) {
    if (/^https?:\/\//.test(path)) return path;
    return this.baseUrl.replace(/\/+$/, "") + path;
  }
  /** A request with the app token; a 401 is retried once with a token asked for again. */
  async exchange(method, path, body, retryUnauthorized = true) {
    let token;
    try {
      token = await this.getAppToken({ refresh: !retryUnauthorized });
    } catch (cause) {
      return { kind: "appToken", message: `getAppToken failed: ${String(cause)}` };
    }
    this.lastToken = token;
    let response;
    try {
      response = await this.env.fetch(
        this.url(path),
        body === void 0 ? { method, headers: { Authorization: `Bearer ${token}` } } : {
          method,
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify(body)
        }
      );
    } catch {
      return { kind: "network" };
    }
    if (response.status === 401 && retryUnauthorized) return this.exchange(method, path, body, false);
    return { kind: "response", response };
  }
  /** The same request, as the lifecycle and the realtime channel act on it. */
  async request(method, path, body) {
    const exchange = await this.exchange(method, path, body);
    switch (exchange.kind) {
      case "appToken":
        return { kind: "unauthorized", error: { code: "app_token", message: exchange.message } };
      case "network":
        return { kind: "transient", reason: "network" };
      case "response":
        return this.classify(exchange.response);
    }
  }
  async classify(response) {
    const { status } = response;
    const body = await response.json().catch(() => void 0);
    if (status >= 200 && status < 300) {
      return body === void 0 ? { kind: "transient", reason: "malformed_response" } : { kind: "ok", body };
    }
    const code = body?.error?.code ?? `http_${status}`;
    const message = body?.error?.message ?? body?.message ?? `HTTP ${status}`;
    if (status === 401) return { kind: "unauthorized", error: { code: "unauthorized", message, status } };
    if (status === 404 && code === "device_not_registered") return { kind: "notRegistered" };
    if (status === 410) return code === "cursor_expired" ? { kind: "cursorExpired" } : { kind: "signedOut" };
    if (status === 408 || status === 429 || status >= 500) {
      return { kind: "transient", reason: code, retryAfterMs: this.retryAfter(response) };
    }
    return { kind: "fatal", error: { code, message, status } };
  }
  /** The answer's `Retry-After`, in milliseconds. */
  retryAfter(response) {
    return retryAfterMs(response.headers.get("Retry-After"), this.env.now());
  }
};

// src/options.ts
var TRANSITIONS = {
  stopped: ["starting"],
  starting: ["live", "reconnecting", "signedOut", "stopped"],
  live: ["reconnecting", "signedOut", "stopped"],
  reconnecting: ["live", "signedOut", "stopped"],
  signedOut: ["starting", "stopped"]
};

// src/storage.ts
var STORAGE_KEYS = {
  deviceId: "softphone.deviceId",
  /** Set when this device was signed out (remotely or by `signOut()`): no automatic start. */
  signedOut: "softphone.signedOut"
};
function loadDeviceId(storage, randomUUID) {
  const stored = storage?.getItem(STORAGE_KEYS.deviceId);
  if (stored && /^[A-Za-z0-9._:-]{1,128}$/.test(stored)) return stored;
  const id = `web_${randomUUID()}`;
  storage?.setItem(STORAGE_KEYS.deviceId, id);
  return id;
}
function isSignedOutStored(storage) {
  return storage?.getItem(STORAGE_KEYS.signedOut) != null;
}
function rememberSignedOut(storage, now) {
  storage?.setItem(STORAGE_KEYS.signedOut, String(now));
}
function forgetSignedOut(storage) {
  storage?.removeItem(STORAGE_KEYS.signedOut);
}

// src/tabs.ts
var Tabs = class {
  constructor(Channel, name, tabId, host) {
    this.Channel = Channel;
    this.name = name;
    this.tabId = tabId;
    this.host = host;
  }
  Channel;
  name;
  tabId;
  host;
  /** The other started tabs of this browser profile (they said hello or here, not yet bye). */
  peers = /* @__PURE__ */ new Set();
  /** The leader closed and left the device registered for the next one: until a new one leads. */
  handover = null;
  channel = null;
  /** Join the channel and say hello (once; again after `close()`). */
  open() {
    if (!this.Channel || this.channel) return;
    const channel = new this.Channel(this.name);
    this.channel = channel;
    channel.addEventListener("message", (event) => {
      if (this.channel === channel) this.receive(event.data);
    });
    this.post({ type: "hello", tab: this.tabId });
  }
  post(message) {
    try {
      this.channel?.postMessage(message);
    } catch {
    }
  }
  /** Say bye and leave the channel. */
  close() {
    this.post({ type: "bye", tab: this.tabId });
    this.peers.clear();
    this.handover = null;
    this.channel?.close();
    this.channel = null;
  }
  receive(message) {
    switch (message.type) {
      case "hello":
        this.peers.add(message.tab);
        this.post({ type: "here", tab: this.tabId });
        this.host.greet();
        return;
      case "here":
        this.peers.add(message.tab);
        return;
      case "bye":
        this.peers.delete(message.tab);
        return;
      case "handover":
        this.peers.delete(message.tab);
        this.handover = {
          from: message.tab,
          ...message.registrationId ? { registrationId: message.registrationId } : {},
          ...message.appToken ? { appToken: message.appToken } : {}
        };
        return;
      default:
        this.host.message(message);
    }
  }
};

// src/tab-presence.ts
var TabPresence = class {
  /** `web_` + a UUID, created once per browser profile and kept in localStorage. */
  deviceId;
  env;
  /** The clock and timers of its environment (the browser's, or `options.environment`'s): what RecentCalls waits with. */
  clock;
  options;
  events = new Emitter();
  api;
  /** The other tabs of this browser profile. */
  tabs;
  /** The state, whether this tab leads, and what that state holds. Changed only by `enter`. */
  lifecycle = STOPPED;
  twilio = { state: void 0 };
  _realtimeState = "closed";
  /** Which events the app has seen, and where the next catch-up starts (kept in every tab). */
  log = new EventLog();
  /** The teams watched (`"org"`, group ids): this tab's, and in the leader every tab's. */
  teams = /* @__PURE__ */ new Set();
  constructor(options) {
    this.options = options;
    this.env = { ...browserEnvironment(), ...options.environment };
    const env = this.env;
    this.clock = {
      now: () => env.now(),
      setTimeout: (callback, ms) => env.setTimeout(callback, ms),
      clearTimeout: (handle) => env.clearTimeout(handle)
    };
    this.deviceId = loadDeviceId(this.env.storage, () => this.env.randomUUID());
    this.api = new ApiClient(this.env, options.apiBaseUrl, options.getAppToken);
    this.tabs = new Tabs(this.env.BroadcastChannel, `softphone-presence:${this.deviceId}`, this.env.randomUUID(), {
      greet: () => {
        if (!this.lifecycle.leader) return;
        this.broadcastState();
        this.post({ type: "log", ...this.log.snapshot() });
      },
      message: (message) => this.onTabMessage(message)
    });
  }
  get state() {
    return this.lifecycle.state;
  }
  /** Whether this tab runs the Twilio Device and the heartbeats for the browser. */
  get isLeader() {
    return this.lifecycle.leader;
  }
  get twilioStatus() {
    return this.twilio;
  }
  /** The realtime channel's state; in a tab that does not lead, the leader's. */
  get realtimeState() {
    return this._realtimeState;
  }
  on(type, handler) {
    return this.events.on(type, handler);
  }
  off(type, handler) {
    this.events.off(type, handler);
  }
  /**
   * Watch a team's presence (`"org"` or a group id): `teamPresence` then comes in every tab.
   * The leading tab subscribes its realtime connection (again on every connection); another tab
   * asks it to.
   */
  watchTeam(team) {
    const fresh = !this.teams.has(team);
    this.teams.add(team);
    if (this.lifecycle.leader) {
      if (fresh) this.subscribeTeam(team);
    } else {
      this.post({ type: "watch", team });
    }
  }
  /** A `team.presence` from the realtime channel (leader) or relayed by the leader. */
  deliverTeamPresence(data) {
    if (!isPersonPresence(data) || this.lifecycle.state === "stopped") return;
    if (this.lifecycle.leader) this.post({ type: "team", person: data });
    this.events.emit("teamPresence", data);
  }
  // ── state and the other tabs ──────────────────────────────────────────────
  /**
   * Move to `next` and tell the app what changed (`leader`, then `state`) and the other tabs. A
   * leader that stays one follows TRANSITIONS; a follower mirrors, a new leader starts over.
   */
  enter(next, reason) {
    const previous = this.lifecycle;
    if (previous.leader && next.leader && next.state !== previous.state && !TRANSITIONS[previous.state].includes(next.state)) {
      throw new Error(`softphone-presence: no transition ${previous.state} → ${next.state}`);
    }
    this.lifecycle = next;
    if (next.leader !== previous.leader) this.events.emit("leader", { leader: next.leader });
    if (next.state === previous.state) return;
    this.events.emit("state", { state: next.state, previous: previous.state, leader: next.leader, ...reason ? { reason } : {} });
    this.broadcastState();
  }
  post(message) {
    this.tabs.post(message);
  }
  broadcastState() {
    const { leader, state } = this.lifecycle;
    if (leader) this.post({ type: "state", tab: this.tabs.tabId, state, twilio: this.twilio, realtime: this._realtimeState });
  }
  onTabMessage(message) {
    if (this.lifecycle.leader) {
      if (message.type === "signIn") this.signInNow();
      else if (message.type === "signedOut" && this.lifecycle.state !== "signedOut") this.enterSignedOut();
      else if (message.type === "watch" && !this.teams.has(message.team)) {
        this.teams.add(message.team);
        this.subscribeTeam(message.team);
      }
      return;
    }
    switch (message.type) {
      case "state":
        if (this.tabs.handover && message.tab !== this.tabs.handover.from) this.tabs.handover = null;
        if (message.state === "stopped" || this.lifecycle.state === "stopped") return;
        this.twilio = message.twilio;
        this.events.emit("twilio", message.twilio);
        this.setRealtimeState(message.realtime);
        this.mirror(message.state);
        for (const team of this.teams) this.post({ type: "watch", team });
        return;
      case "team":
        if (this.lifecycle.state !== "stopped") this.events.emit("teamPresence", message.person);
        return;
      case "watch":
        return;
      case "events":
        if (this.lifecycle.state !== "stopped") this.deliverEvents(message.events);
        return;
      case "cursor":
        this.log.advance(message.cursor);
        return;
      case "log":
        this.log.merge(message);
        return;
      case "resync":
        if (this.lifecycle.state !== "stopped") this.events.emit("resync", { reason: "cursor_expired" });
        return;
    }
  }
  /** A tab that follows shows the leading tab's state. */
  mirror(state) {
    const now = this.lifecycle;
    if (now.leader || now.state === "stopped" || now.state === state) return;
    this.enter({ ...now, state });
  }
  // ── the server's events ───────────────────────────────────────────────────
  /**
   * Events from the realtime channel (leader) or relayed by the leader (the other tabs): each
   * one the app has not had goes to it, in every tab. This device signed out from another one
   * signs out here, as a 410 `device_signed_out` would.
   */
  deliverEvents(events) {
    const fresh = events.filter((event) => this.log.accept(event));
    if (fresh.length === 0) return;
    if (this.lifecycle.leader) this.post({ type: "events", events: fresh });
    for (const event of fresh) {
      this.events.emit("event", event);
      if (EVENT_TYPES.includes(event.type)) {
        this.events.emit(event.type, event);
      }
      if (this.signsThisDeviceOut(event)) {
        this.rememberSignedOut();
        this.enterSignedOut();
      }
    }
  }
  /** Signed out after its latest register: an older sign-out was lifted by a sign-in since. */
  signsThisDeviceOut(event) {
    const now = this.lifecycle;
    if (!now.leader || now.state === "signedOut") return false;
    const registeredAt = now.device?.registration.device?.lastSeen ?? 0;
    return isEventOf(event, "device.signedOut") && event.data.deviceId === this.deviceId && event.at >= registeredAt;
  }
  setRealtimeState(state, broadcast = true) {
    if (state === this._realtimeState) return;
    this._realtimeState = state;
    this.events.emit("realtime", { state });
    if (broadcast) this.broadcastState();
  }
  // ── storage ───────────────────────────────────────────────────────────────
  rememberSignedOut() {
    rememberSignedOut(this.env.storage, this.env.now());
  }
};

// src/twilio-device.ts
var TOKEN_ERROR_CODES = /* @__PURE__ */ new Set([20101, 20104, 31204, 31205]);
var TwilioDeviceRunner = class {
  constructor(host) {
    this.host = host;
  }
  host;
  _device = null;
  get device() {
    return this._device;
  }
  /** Hand `token` to the Device, creating it first if there is none; `current()` false drops a late one. */
  async use(token, current) {
    const existing = this._device;
    if (existing && existing.state !== "destroyed") {
      try {
        existing.updateToken(token);
      } catch {
        this.destroy();
      }
      if (this._device) return;
    }
    let DeviceClass;
    try {
      DeviceClass = this.host.Device ?? await loadTwilioDevice();
    } catch (cause) {
      this.host.failed({ code: "twilio_sdk", message: `cannot load @twilio/voice-sdk: ${String(cause)}` });
      return;
    }
    if (!current()) return;
    let device;
    try {
      device = new DeviceClass(token, this.host.deviceOptions);
    } catch (cause) {
      this.host.setStatus({ state: void 0, error: { message: String(cause) } });
      return;
    }
    this._device = device;
    this.listen(device);
    this.host.created(device);
    try {
      device.register().catch(() => {
      });
    } catch {
    }
  }
  destroy() {
    const device = this._device;
    this._device = null;
    if (device && device.state !== "destroyed") {
      try {
        device.destroy();
      } catch {
      }
    }
    const status = this.host.status();
    if (status.state !== void 0 || status.error) this.host.setStatus({ state: void 0 });
  }
  listen(device) {
    const mine = () => this._device === device;
    for (const state of ["registered", "registering", "unregistered"]) {
      device.on(state, () => {
        if (mine()) this.host.setStatus({ state, ...state === "registered" ? {} : { error: this.host.status().error } });
      });
    }
    device.on("error", (error) => {
      if (!mine()) return;
      this.host.setStatus({
        state: this.host.status().state,
        error: { code: error?.code, message: error?.message ?? String(error) }
      });
      if (error?.code !== void 0 && TOKEN_ERROR_CODES.has(error.code)) this.host.renew();
    });
    device.on("tokenWillExpire", () => {
      if (mine()) this.host.renew();
    });
  }
};
async function loadTwilioDevice() {
  const sdk = await import("@twilio/voice-sdk");
  return sdk.Device;
}

// src/request-loop.ts
var JITTER = 0.1;
var MIN_BACKOFF_MS = 500;
var DEFAULT_INTERVAL_SECONDS = 60;
var REPORT_DELAY_MS = 1e3;
var RequestLoop = class extends TabPresence {
  label;
  /** The user asked to sign in: the next register says so (kept until one has, or `signOut()`). */
  signInPending = false;
  /** The Twilio Device, run by the leading tab. */
  runner;
  /** Runs in the leading tab while it is registered; `null` without WebSockets. */
  realtime;
  /** Until when a realtime connection that went down still keeps the device live (its grace). */
  socketGraceUntilMs = 0;
  constructor(options) {
    super(options);
    this.label = (options.label ?? labelFromUserAgent(this.env.userAgent)).slice(0, 64);
    this.runner = new TwilioDeviceRunner({
      Device: options.Device,
      deviceOptions: options.deviceOptions,
      status: () => this.twilio,
      setStatus: (status) => this.setTwilio(status),
      created: (device) => this.events.emit("device", device),
      failed: (error) => this.events.emit("error", error),
      renew: () => this.askRegister()
    });
    this.realtime = this.env.WebSocket ? new RealtimeChannel({
      env: this.env,
      deviceId: this.deviceId,
      log: this.log,
      request: (method, path, body) => this.api.request(method, path, body),
      deliver: (events) => this.deliverEvents(events),
      advance: (cursor) => {
        this.log.advance(cursor);
        this.post({ type: "cursor", cursor });
      },
      resync: () => {
        this.post({ type: "resync" });
        this.events.emit("resync", { reason: "cursor_expired" });
      },
      notRegistered: () => this.askRegister(),
      state: (state) => {
        this.setRealtimeState(state);
        this.socketChanged();
      },
      socket: () => this.socketPresence(),
      report: () => this.twilioReport(),
      reported: (report) => this.twilioReported(report),
      teams: () => [...this.teams],
      teamPresence: (data) => this.deliverTeamPresence(data)
    }) : null;
  }
  /** The leading tab subscribes its open realtime connection to a team a tab asked for. */
  subscribeTeam(team) {
    this.realtime?.subscribe(team);
  }
  /** The last register-device response of this run (token, assigned phones, device, presence). */
  get registration() {
    return isRunning(this.lifecycle) ? this.lifecycle.device?.registration ?? null : null;
  }
  // ── a run ─────────────────────────────────────────────────────────────────
  /** Begin a run of the request loop: `starting`, and a register at once. */
  beginRun(releaseLock) {
    const run = new Run();
    this.enter({ state: "starting", leader: true, releaseLock, run, device: null, registerNext: true });
    if (this.current(run)) this.schedule(run, 0);
  }
  /** The run is over: no timer, no request, no realtime channel, no Device. The caller leaves its state. */
  endRun() {
    const now = this.lifecycle;
    if (isRunning(now)) {
      if (now.run.next.kind === "waiting") this.env.clearTimeout(now.run.next.timer);
      now.run.next = { kind: "ended" };
    }
    this.realtime?.stop();
    this.runner.destroy();
  }
  /** Register again for a fresh token (then `device.updateToken(token)`), or to sign in. */
  askRegister() {
    const now = this.lifecycle;
    if (!isRunning(now) || now.run.next.kind === "ended") return;
    this.enter({ ...now, registerNext: true });
    if (now.run.next.kind === "requesting") now.run.next.registerAfter = true;
    else this.schedule(now.run, 0);
  }
  /** The running state of `run`, or `null` once that run has ended. */
  current(run) {
    const now = this.lifecycle;
    return isRunning(now) && now.run === run && run.next.kind !== "ended" ? now : null;
  }
  // ── the request loop ──────────────────────────────────────────────────────
  schedule(run, ms) {
    if (run.next.kind === "waiting") this.env.clearTimeout(run.next.timer);
    const due = this.env.now() + ms;
    const timer = this.env.setTimeout(() => void this.step(run), ms);
    run.next = { kind: "waiting", timer, due };
  }
  /** One request: register when needed (or when the TTL has passed), else heartbeat; then the next. */
  async step(run) {
    const now = this.current(run);
    if (!now || run.next.kind !== "waiting") return;
    const flight = { kind: "requesting", registerAfter: false };
    run.next = flight;
    const { device } = now;
    if (!now.registerNext && device && this.socketHolds()) {
      if (this.twilioReport().twilioState !== void 0) this.realtime?.pingNow();
      run.next = { kind: "idle" };
      return;
    }
    const expired = device && this.env.now() >= Math.max(device.expiresAtMs, this.socketGraceUntilMs);
    const delay = now.registerNext || !device || expired ? await this.register(run) : await this.heartbeat(run, device);
    const after = this.current(run);
    if (!after) return;
    if (delay === null) {
      run.next = { kind: "idle" };
      return;
    }
    const again = flight.registerAfter && after.registerNext && after.state === "live";
    this.schedule(run, again ? 0 : delay);
  }
  /** The delay before the next request, or `null` for none (the run ended meanwhile). */
  async register(run) {
    const signIn = this.signInPending;
    const outcome = await this.call(PATHS.register, {
      deviceId: this.deviceId,
      platform: "web",
      label: this.label,
      capabilities: this.options.capabilities ?? ["voice"],
      ...this.twilio.state ? { twilioState: this.twilio.state } : {},
      ...signIn ? { signIn: true } : {}
    });
    const now = this.current(run);
    if (!now) return null;
    if (outcome.kind !== "ok") return this.failed(now, outcome);
    const registration = outcome.body;
    if (signIn) this.signInPending = false;
    const device = {
      ...noted(now.device, registration.device, registration.presence),
      registration,
      reportedTwilioState: this.twilio.state
    };
    this.enter(now.state === "reconnecting" ? { ...now, device, registerNext: this.signInPending, failures: 0 } : { ...now, device, registerNext: this.signInPending });
    this.tabs.handover = null;
    this.events.emit("registered", registration);
    if (registration.evictedDeviceIds?.length) {
      this.events.emit("evicted", { deviceIds: registration.evictedDeviceIds });
    }
    await this.runner.use(registration.token, () => this.current(run) !== null);
    const after = this.current(run);
    if (!after) return null;
    this.enter(live(after, device));
    this.realtime?.start();
    this.realtime?.registered();
    const changed = this.runner.device !== null && this.twilio.state !== device.reportedTwilioState;
    return changed ? REPORT_DELAY_MS : this.jittered(device.intervalSeconds);
  }
  async heartbeat(run, device) {
    const twilioState = this.twilio.state;
    const report = twilioState !== void 0 && twilioState !== device.reportedTwilioState;
    const url = device.registration.presence?.heartbeatUrl ?? PATHS.heartbeat;
    const outcome = await this.call(url, {
      deviceId: this.deviceId,
      ...report ? { twilioState } : {}
    });
    const now = this.current(run);
    if (!now) return null;
    if (outcome.kind !== "ok") return this.failed(now, outcome);
    const beat = outcome.body;
    const next = { ...device, ...noted(device, beat.device, beat.presence), reportedTwilioState: twilioState };
    this.enter(live(now, next));
    return this.jittered(next.intervalSeconds);
  }
  /** What a refused or failed request leads to: the delay before the next, or `null` for none. */
  failed(now, outcome) {
    const failures = now.state === "reconnecting" ? now.failures : 0;
    switch (outcome.kind) {
      case "notRegistered":
        this.enter(reconnecting(now, failures, true), "device_not_registered");
        return 0;
      case "signedOut":
        this.rememberSignedOut();
        this.enterSignedOut();
        return null;
      case "transient":
        this.enter(reconnecting(now, failures + 1, now.registerNext), outcome.reason);
        return this.backoff(failures + 1, outcome.retryAfterMs, now.device);
      case "unauthorized":
        this.events.emit("error", outcome.error);
        this.options.onSignInRequired?.();
        this.stopAfterError();
        return null;
      case "fatal":
        this.events.emit("error", outcome.error);
        this.stopAfterError();
        return null;
      case "cursorExpired":
        return null;
    }
  }
  jittered(seconds) {
    return seconds * 1e3 * (1 - JITTER + 2 * JITTER * this.env.random());
  }
  /** Retry-After when the server gave one, else exponential with jitter, inside the TTL. */
  backoff(failures, retryAfterMs2, device) {
    if (retryAfterMs2 !== void 0) return retryAfterMs2;
    const delay = backoffMs(failures, () => this.env.random());
    const left = (device?.expiresAtMs ?? 0) - this.env.now();
    return left > 0 ? Math.min(delay, Math.max(MIN_BACKOFF_MS, left / 2)) : delay;
  }
  call(path, body) {
    return this.api.request("POST", path, body);
  }
  // ── socket presence ───────────────────────────────────────────────────────
  /** The server's socket presence settings, from the last register of this run. */
  socketPresence() {
    return this.registration?.presence?.socket ?? null;
  }
  /** The realtime channel is open and keeps the device live: no heartbeats. */
  socketHolds() {
    return this.realtime?.state === "connected" && this.socketPresence() !== null;
  }
  /** The channel opened (a Twilio state not yet told goes in a ping now) or went down (a heartbeat within the grace if it stays down). */
  socketChanged() {
    const socket = this.socketPresence();
    const now = this.lifecycle;
    if (!socket || !isRunning(now) || !now.leader) return;
    if (this.realtime?.state === "connected") {
      if (this.twilioReport().twilioState !== void 0) this.realtime.pingNow();
      return;
    }
    if (this.realtime?.state !== "connecting") return;
    const next = now.run.next;
    if (next.kind === "ended" || next.kind === "requesting") return;
    const graceMs = socket.graceSeconds * 1e3;
    this.socketGraceUntilMs = this.env.now() + graceMs;
    const due = this.env.now() + graceMs / 2;
    if (next.kind === "waiting" && next.due <= due) return;
    this.schedule(now.run, graceMs / 2);
  }
  /** A Twilio state the server has not been told of, for the next ping. */
  twilioReport() {
    const now = this.lifecycle;
    const state = this.twilio.state;
    if (!isRunning(now) || !now.device || state === void 0 || state === now.device.reportedTwilioState) return {};
    return { twilioState: state };
  }
  twilioReported(report) {
    const now = this.lifecycle;
    if (!isRunning(now) || now.state !== "live" || report.twilioState === void 0) return;
    this.enter(live(now, { ...now.device, reportedTwilioState: report.twilioState }));
  }
  // ── the Twilio Device ─────────────────────────────────────────────────────
  setTwilio(status) {
    this.twilio = status;
    this.events.emit("twilio", status);
    this.broadcastState();
    const now = this.lifecycle;
    if (this.runner.device !== null && now.state === "live" && now.leader && this.socketHolds()) {
      if (status.state !== now.device.reportedTwilioState) this.realtime?.pingNow();
      return;
    }
    if (this.runner.device !== null && now.state === "live" && now.leader && status.state !== now.device.reportedTwilioState && now.run.next.kind === "waiting" && now.run.next.due > this.env.now() + REPORT_DELAY_MS) {
      this.schedule(now.run, REPORT_DELAY_MS);
    }
  }
};
function live(from, device) {
  const { releaseLock, run, registerNext } = from;
  return { state: "live", leader: true, releaseLock, run, device, registerNext };
}
function reconnecting(from, failures, registerNext) {
  const { releaseLock, run, device } = from;
  return { state: "reconnecting", leader: true, releaseLock, run, device, registerNext, failures };
}
function noted(before, device, presence) {
  return {
    expiresAtMs: device?.expiresAt ? device.expiresAt * 1e3 : before?.expiresAtMs ?? 0,
    intervalSeconds: presence?.heartbeatIntervalSeconds || before?.intervalSeconds || DEFAULT_INTERVAL_SECONDS
  };
}

// src/presence.ts
var SoftphonePresence = class extends RequestLoop {
  /** The user's SMS inbox: conversations, messages, read marks, sending, media. Usable in any tab. */
  inbox;
  /** The user's call history: recent calls, their seen mark, voicemail. Usable in any tab. */
  history;
  /** The user's own status: read it, set it (available, away, do not disturb). Usable in any tab. */
  status;
  /** The team's presence: pages, and live views (`watch()`). Usable in any tab. */
  team;
  constructor(options) {
    super(options);
    this.inbox = new SmsInbox(this.env, this.api);
    this.history = new CallHistory(this.api);
    this.status = new PresenceStatus(this.api);
    this.team = new TeamPresence(this.api, this);
    this.env.page?.addEventListener("pagehide", () => this.onPageHide());
    this.env.page?.addEventListener("pageshow", (event) => {
      const now = this.lifecycle;
      if (event.persisted && now.state === "stopped" && now.suspended) this.start();
    });
  }
  /** The Twilio Device this tab runs, if it leads. */
  get device() {
    return this.runner.device;
  }
  /**
   * Start presence for this browser. Without `signIn` (a page load, a restored tab) a device that
   * was signed out stays signed out; `signIn: true` means the user just signed in and brings it
   * back. Calling it again while running only forwards a sign-in to the tab that leads.
   */
  start(options = {}) {
    if (options.signIn) {
      forgetSignedOut(this.env.storage);
      this.signInPending = true;
    }
    if (this.lifecycle.state !== "stopped") {
      if (options.signIn) this.signInNow();
      return;
    }
    this.requestLead();
  }
  /**
   * Stop presence in this tab: unregister the device (a normal request) and destroy the Twilio
   * Device. Another open tab of this browser then takes over.
   */
  async stop() {
    const now = this.lifecycle;
    if (now.state === "stopped") return;
    const unregister = now.leader && now.state !== "signedOut";
    const body = this.unregisterBody();
    const release = this.takeLockRelease();
    this.teardown(false);
    try {
      if (unregister) await this.call(PATHS.unregister, body);
    } finally {
      release();
    }
  }
  /**
   * Sign this browser out: the server removes the device and refuses its automatic registers
   * (other tabs, reloads) until the user signs in again with `start({ signIn: true })`.
   */
  async signOut() {
    this.rememberSignedOut();
    this.signInPending = false;
    if (this.lifecycle.leader) this.enterSignedOut();
    else this.post({ type: "signedOut" });
    this.mirror("signedOut");
    await this.call(PATHS.unregister, { deviceId: this.deviceId, signOut: true });
  }
  // ── leadership ────────────────────────────────────────────────────────────
  /** `starting`, following until the lock is this tab's (at once without Web Locks). */
  requestLead() {
    const locks = this.env.locks;
    const request = locks ? new AbortController() : null;
    this.enter({ state: "starting", leader: false, lockRequest: request });
    this.tabs.open();
    if (!locks || !request) {
      this.lead(() => {
      });
      return;
    }
    locks.request(`softphone-presence:${this.deviceId}`, { signal: request.signal }, () => {
      const now = this.lifecycle;
      if (now.leader || now.state === "stopped" || now.lockRequest !== request) return;
      return new Promise((release) => this.lead(release));
    }).catch(() => {
    });
  }
  lead(releaseLock) {
    this.twilio = { state: void 0 };
    this.setRealtimeState("closed", false);
    if (isSignedOutStored(this.env.storage) && !this.signInPending) {
      this.enter({ state: "signedOut", leader: true, releaseLock });
    } else {
      this.beginRun(releaseLock);
    }
    this.broadcastState();
  }
  /** The lock's release (called once the caller is done), the request for it withdrawn. */
  takeLockRelease() {
    const now = this.lifecycle;
    if (now.leader) return now.releaseLock;
    if (now.state !== "stopped") now.lockRequest?.abort();
    return () => {
    };
  }
  signInNow() {
    const now = this.lifecycle;
    if (!now.leader) {
      this.post({ type: "signIn" });
      return;
    }
    this.signInPending = true;
    if (now.state === "signedOut") this.beginRun(now.releaseLock);
    else this.askRegister();
  }
  // ── ending ────────────────────────────────────────────────────────────────
  enterSignedOut() {
    const now = this.lifecycle;
    if (!now.leader) return;
    this.endRun();
    this.enter({ state: "signedOut", leader: true, releaseLock: now.releaseLock });
  }
  stopAfterError() {
    this.takeLockRelease()();
    this.teardown(false);
  }
  /** Stopped; `suspended` by pagehide (a pageshow from the back/forward cache starts again). */
  teardown(suspended) {
    this.endRun();
    this.enter({ state: "stopped", leader: false, suspended });
    this.setRealtimeState("closed");
    this.tabs.close();
  }
  unregisterBody(registrationId = this.registration?.registrationId) {
    return { deviceId: this.deviceId, ...registrationId ? { registrationId } : {} };
  }
  /**
   * The page goes away. The leading tab hands over when other tabs of this browser stay open:
   * the next one takes the lock and registers the same device id at once, and an unregister
   * racing that register could drop the device from the user's list (calls in that moment
   * would go to voicemail). The last tab unregisters, with `keepalive`.
   */
  onPageHide() {
    const now = this.lifecycle;
    if (now.state === "stopped") return;
    const { handover, peers } = this.tabs;
    const registration = this.registration;
    const registrationId = registration?.registrationId ?? handover?.registrationId;
    const token = this.api.lastToken ?? handover?.appToken;
    const running = now.leader && now.state !== "signedOut";
    if (running && peers.size > 0) {
      this.post({
        type: "handover",
        tab: this.tabs.tabId,
        ...registrationId ? { registrationId } : {},
        ...token ? { appToken: token } : {}
      });
    } else if (peers.size === 0 && token && (running ? registration || handover : handover)) {
      this.env.fetch(this.api.url(PATHS.unregister), {
        method: "POST",
        keepalive: true,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify(this.unregisterBody(registrationId))
      }).catch(() => {
      });
    }
    this.takeLockRelease()();
    this.teardown(true);
  }
};

// src/sms.ts
function statusRank(status) {
  switch (status) {
    case "queued":
    case "accepted":
    case "scheduled":
      return 0;
    case "sending":
      return 1;
    case "sent":
      return 2;
    case "delivered":
    case "undelivered":
    case "failed":
    case "canceled":
    case "partially_delivered":
      return 3;
    case "read":
      return 4;
    default:
      return void 0;
  }
}
function advancesStatus(current, next) {
  const to = statusRank(next);
  if (to === void 0) return false;
  const from = statusRank(current);
  return from === void 0 || to > from;
}
function withStatus(message, update) {
  if (!advancesStatus(message.status, update.status)) return message;
  return { ...message, status: update.status, errorCode: update.errorCode ?? message.errorCode };
}
function mergeMessage(known, incoming) {
  if (!known) return incoming;
  return withStatus(known, incoming) === known ? known : incoming;
}

// src/calls.ts
function callPosition(call) {
  return `${Math.max(0, Math.trunc(call.startedAt)).toString(16).padStart(16, "0")}:${call.callSid}`;
}
var OUTCOME_RANK = { ringing: 0, missed: 1, canceled: 2, answered: 3, voicemail: 4 };
function outcomeRank(outcome) {
  return OUTCOME_RANK[outcome] ?? 0;
}
function isMissed(call) {
  return call.outcome === "missed" || call.outcome === "voicemail";
}
function mergeCall(known, incoming) {
  if (!known) return incoming;
  return {
    ...known,
    // A recording's callback carries no From or To: an entry it made may lack them.
    from: known.from || incoming.from,
    to: known.to || incoming.to,
    outcome: outcomeRank(incoming.outcome) > outcomeRank(known.outcome) ? incoming.outcome : known.outcome,
    reason: known.reason ?? incoming.reason,
    answeredBy: known.answeredBy ?? incoming.answeredBy,
    answeredAt: known.answeredAt ?? incoming.answeredAt,
    endedAt: known.endedAt ?? incoming.endedAt,
    durationSeconds: known.durationSeconds ?? incoming.durationSeconds,
    voicemail: known.voicemail ?? incoming.voicemail,
    phoneId: known.phoneId ?? incoming.phoneId,
    phoneNumber: known.phoneNumber ?? incoming.phoneNumber,
    offeredTo: mergeOffers(known.offeredTo ?? [], incoming.offeredTo ?? []),
    seen: known.seen || incoming.seen
  };
}
function mergeOffers(known, incoming) {
  const steps = /* @__PURE__ */ new Map();
  for (const offer of [...incoming, ...known]) steps.set(offer.step, offer);
  return [...steps.values()].sort((a, b) => a.step - b.step);
}
function describeRinging(call, name = (email) => email, answerer = call.answeredBy?.name) {
  const steps = call.offeredTo ?? [];
  if (steps.length === 0) return null;
  const list = (people) => people.length <= 1 ? people.join("") : `${people.slice(0, -1).join(", ")} and ${people[people.length - 1]}`;
  const rang = `Rang ${steps.map((step) => list(step.to.map(name))).join(", then ")}`;
  if (answerer === void 0 || call.answeredAt === null) return rang;
  const after = Math.max(0, Math.round((call.answeredAt - call.startedAt) / 1e3));
  return `${rang}; ${answerer} answered after ${after} s`;
}
function callFromEvent(ref, facts) {
  return {
    callSid: ref.callSid,
    direction: ref.direction,
    from: ref.from,
    to: ref.to,
    phoneId: ref.phoneId ?? null,
    phoneNumber: ref.phoneNumber ?? null,
    outcome: facts.outcome ?? "ringing",
    reason: facts.reason ?? null,
    answeredBy: null,
    startedAt: ref.startedAt,
    answeredAt: null,
    endedAt: null,
    durationSeconds: null,
    voicemail: facts.voicemail ?? null,
    offeredTo: [],
    seen: false
  };
}
function withoutVoicemail(call, recordingSid) {
  if (call.voicemail?.recordingSid !== recordingSid) return call;
  const outcome = call.outcome !== "voicemail" ? call.outcome : call.answeredAt !== null || call.answeredBy !== null ? "answered" : "missed";
  return { ...call, voicemail: null, outcome };
}

// src/recent-calls.ts
var DEFAULT_PAGE_SIZE = 50;
var SETTLE_MS = 2e3;
var RecentCalls = class {
  constructor(source, options = {}) {
    this.source = source;
    this.options = options;
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.detach = [
      source.on("call.missed", ({ data }) => this.learn(callFromEvent(data, { outcome: "missed", reason: data.reason }))),
      source.on("voicemail.received", ({ data }) => this.learn(callFromEvent(data, { outcome: "voicemail", voicemail: data.voicemail }))),
      source.on("calls.seen", ({ data }) => this.seen(data.upTo)),
      source.on("voicemail.deleted", ({ data }) => {
        this.forget(data.recordingSid);
        this.changed();
      }),
      source.on("resync", () => void this.load().catch(() => void 0))
    ];
  }
  source;
  options;
  known = /* @__PURE__ */ new Map();
  /** The position of the newest call the user has seen ('' for none). */
  seenUpTo = "";
  /** A `calls.seen` for calls not loaded yet: applied when they come. */
  seenPending = /* @__PURE__ */ new Set();
  deleted = /* @__PURE__ */ new Set();
  /** `before` of the next older page; `undefined` until the first page, `null` once all are here. */
  _cursor = void 0;
  queue = Promise.resolve();
  changes = new Emitter();
  detach;
  pageSize;
  settling = false;
  /** `change` fires after anything the list or the count shows changed. */
  on(type, handler) {
    return this.changes.on(type, handler);
  }
  get calls() {
    return this.sorted().map(([position, { call }]) => call.seen || position > this.seenUpTo ? call : { ...call, seen: true });
  }
  get unseenMissed() {
    let count = 0;
    for (const [position, { call, toMe }] of this.sorted()) if (toMe && isMissed(call) && position > this.seenUpTo) count += 1;
    return count;
  }
  /** Whether older calls are left to load. */
  get hasOlder() {
    return typeof this._cursor === "string";
  }
  /** The newest calls (again); rejects with a `CallsError`. */
  load() {
    return this.page(true);
  }
  /** The next older page, if any. */
  loadOlder() {
    return this.page(false);
  }
  /** Mark every call shown seen (up to the newest); nothing is asked when the newest is seen already. */
  async markSeen() {
    const [newest] = this.sorted();
    if (!newest || newest[0] <= this.seenUpTo) return;
    const { upTo } = await this.source.history.markCallsSeen(newest[1].call.callSid);
    this.seen(upTo);
  }
  /** A voicemail's recording, to play from a `blob:` URL; one that is gone (404) leaves the list. */
  voicemail(recordingSid, options = {}) {
    return this.unlessGone(recordingSid, this.source.history.voicemail(recordingSid, options));
  }
  /** Delete a voicemail (at Twilio and in the history); it never comes back to this list. */
  async deleteVoicemail(recordingSid) {
    const answer = await this.unlessGone(recordingSid, this.source.history.deleteVoicemail(recordingSid));
    this.forget(recordingSid);
    this.changed();
    return answer;
  }
  /** Stop following the events; what is shown stays as it is. */
  close() {
    for (const off of this.detach) off();
  }
  page(first, settles = false) {
    const run = this.queue.then(async () => {
      if (!first && !this.hasOlder) return;
      const page = await this.source.history.calls({ before: first ? null : this._cursor, limit: this.pageSize });
      this.applyPage(page, first, settles);
    });
    this.queue = run.catch(() => void 0);
    return run;
  }
  applyPage(page, first, settles) {
    for (const call of page.calls) {
      const known = this.known.get(call.callSid);
      const shown = known?.call.voicemail?.recordingSid;
      let disputed;
      if (shown && call.voicemail?.recordingSid !== shown) {
        if (known.paged === shown || settles && known.disputed === shown) this.forget(shown);
        else disputed = shown;
      }
      this.keep(mergeCall(known?.call, call), known?.toMe || this.toMe(call));
      Object.assign(this.known.get(call.callSid), { paged: call.voicemail?.recordingSid ?? null, disputed });
      if (disputed) this.settleLater();
      if (call.seen) this.raiseSeen(callPosition(call));
    }
    if (!first || this._cursor === void 0) this._cursor = page.cursor;
    this.changed();
  }
  /** What an event said of a call: merged into what is known (only the callee's events come). */
  learn(call) {
    const known = this.known.get(call.callSid);
    const changed = this.keep(mergeCall(known?.call, call), true);
    const recordingSid = call.voicemail?.recordingSid;
    if (recordingSid && known?.paged === null && !this.deleted.has(recordingSid)) {
      this.known.get(call.callSid).disputed = recordingSid;
      this.settleLater();
    }
    if (changed) this.changed();
  }
  settleLater() {
    if (this.settling) return;
    this.settling = true;
    this.source.clock.setTimeout(() => {
      this.settling = false;
      void this.page(true, true).catch(() => void 0);
    }, SETTLE_MS);
  }
  /** Keep `call` as the user's entry (without any voicemail deleted); whether that changed it. */
  keep(call, toMe) {
    let shown = call;
    for (const recordingSid of this.deleted) shown = withoutVoicemail(shown, recordingSid);
    const known = this.known.get(call.callSid);
    const same = known !== void 0 && known.toMe === toMe && JSON.stringify(known.call) === JSON.stringify(shown);
    if (!same) this.known.set(call.callSid, { ...known, call: shown, toMe });
    const seen = this.seenPending.delete(call.callSid) && this.raiseSeen(callPosition(shown));
    return !same || seen;
  }
  /** A 404 about a voicemail: it was deleted on another device (or Twilio no longer has it). */
  async unlessGone(recordingSid, request) {
    try {
      return await request;
    } catch (error) {
      if (error instanceof CallsError && error.code === "not_found") {
        this.forget(recordingSid);
        this.changed();
      }
      throw error;
    }
  }
  /** A voicemail deleted (here or on another device): off every entry, for good. */
  forget(recordingSid) {
    this.deleted.add(recordingSid);
    for (const known of this.known.values()) known.call = withoutVoicemail(known.call, recordingSid);
  }
  /** The user has seen up to the call `upTo`; a call not loaded yet is looked for in the newest page. */
  seen(upTo) {
    const known = this.known.get(upTo);
    if (known) {
      if (this.raiseSeen(callPosition(known.call))) this.changed();
      return;
    }
    this.seenPending.add(upTo);
    void this.load().catch(() => void 0);
  }
  raiseSeen(position) {
    if (position <= this.seenUpTo) return false;
    this.seenUpTo = position;
    return true;
  }
  toMe(call) {
    if (call.direction === "inbound") return true;
    return call.direction === "internal" && this.options.email !== void 0 && call.to === this.options.email;
  }
  sorted() {
    return [...this.known.values()].map((known) => [callPosition(known.call), known]).sort(([a], [b]) => a < b ? 1 : a > b ? -1 : 0);
  }
  changed() {
    this.changes.emit("change", { calls: this.calls, unseenMissed: this.unseenMissed });
  }
};
export {
  CallHistory,
  CallsError,
  EVENT_TYPES,
  Emitter,
  MAX_SMS_CHARS,
  PeopleError,
  PresenceStatus,
  RecentCalls,
  SETTLE_MS,
  STORAGE_KEYS,
  ServiceError,
  SmsError,
  SmsInbox,
  SoftphonePresence,
  TRANSITIONS,
  TeamPresence,
  TeamView,
  advancesStatus,
  callPosition,
  describeRinging,
  isEventOf,
  isMissed,
  labelFromUserAgent,
  mergeCall,
  mergeMessage,
  outcomeRank,
  segments,
  statusRank,
  withStatus
};
